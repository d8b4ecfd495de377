# The retrieval core (src/retrieval/): parse, chunk, embed, index, hybrid search and
# evaluation, shared by the rag, search and docs modules. Dependencies point one way:
#   retrieval            documents and chunks, LangChain's splitters, fusion, metrics
#   retrieval_parse      HTML (libxml2), PDF text layer (Poppler), Markdown, text, BEIR
#   retrieval_index      BM25 (Xapian) and approximate/exact nearest neighbours (hnswlib)
#   retrieval_providers  embedders and generators behind HTTP (SageMaker, OpenAI-style)
find_package(LibXml2 REQUIRED)
pkg_check_modules(POPPLER_CPP REQUIRED IMPORTED_TARGET poppler-cpp)
pkg_check_modules(XAPIAN REQUIRED IMPORTED_TARGET xapian-core)
# hnswlib is header-only (Debian's libhnswlib-dev puts it in /usr/include/hnswlib).
find_path(HNSWLIB_INCLUDE_DIR hnswlib/hnswlib.h REQUIRED)

# A layer needs sources; the parts arrive one branch at a time.
foreach(_part retrieval retrieval_parse retrieval_index retrieval_providers)
  string(REPLACE "_" "/" _dir ${_part})
  file(GLOB _srcs ${CMAKE_SOURCE_DIR}/src/${_dir}/*.cc)
  list(FILTER _srcs EXCLUDE REGEX "(_test|_fuzz|_bench)\\.cc$")
  set(_have_${_part} FALSE)
  if(_srcs)
    set(_have_${_part} TRUE)
  endif()
endforeach()
if(_have_retrieval)
  sagebox_layer(retrieval sagebox_core nlohmann_json::nlohmann_json)
  list(APPEND SAGEBOX_LAYERS retrieval)
endif()
if(_have_retrieval_parse)
  sagebox_layer(retrieval_parse sagebox_retrieval LibXml2::LibXml2 PkgConfig::POPPLER_CPP)
  list(APPEND SAGEBOX_LAYERS retrieval_parse)
endif()
if(_have_retrieval_index)
  sagebox_layer(retrieval_index sagebox_retrieval PkgConfig::XAPIAN)
  target_include_directories(sagebox_retrieval_index SYSTEM PUBLIC ${HNSWLIB_INCLUDE_DIR})
  # zlib's crc32 guards the vector index files (vector_index.cc).
  target_link_libraries(sagebox_retrieval_index PUBLIC ZLIB::ZLIB)
  # hnswlib's graph code is instantiated in vector_index.cc; unoptimised (Debug)
  # its 10^4-vector recall tests take minutes under ASan, -O2 keeps them in seconds.
  set_source_files_properties(${CMAKE_SOURCE_DIR}/src/retrieval/index/vector_index.cc
                              PROPERTIES COMPILE_OPTIONS $<$<CONFIG:Debug>:-O2>)
  list(APPEND SAGEBOX_LAYERS retrieval_index)
endif()
if(_have_retrieval_providers)
  sagebox_layer(retrieval_providers sagebox_retrieval sagebox_http PkgConfig::HTTPLIB)
  list(APPEND SAGEBOX_LAYERS retrieval_providers)
endif()
