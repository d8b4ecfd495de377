# Endpoint: many models behind one SageMaker-style multi-model endpoint (src/endpoint/).
#   endpoint         config, cache, tensors and their codecs, model store, serving, APIs
#   endpoint_python  Triton's Python backend: model.py in /usr/bin/python3 children
#   endpoint_torch   TorchScript through Debian's libtorch: pytorch_libtorch and diffusion
# The backends sit on endpoint; only the edge (cli) registers them, so endpoint's own
# tests and the fuzzers never pull in libtorch.
find_package(LibArchive REQUIRED)
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)
sagebox_layer(endpoint sagebox_core nlohmann_json::nlohmann_json LibArchive::LibArchive PNG::PNG
              JPEG::JPEG)
list(APPEND SAGEBOX_LAYERS endpoint)
sagebox_layer(endpoint_python sagebox_endpoint)
list(APPEND SAGEBOX_LAYERS endpoint_python)
# The Python side (runner + triton_python_backend_utils) ships inside the binary:
# each .py becomes a raw string literal in a generated source; editing one re-runs CMake.
set(_py_dir ${CMAKE_SOURCE_DIR}/src/endpoint/python)
foreach(_py runner:sagebox_python_runner utils:triton_python_backend_utils)
  string(REPLACE ":" ";" _py ${_py})
  list(GET _py 0 _key)
  list(GET _py 1 _file)
  string(TOUPPER ${_key} _key)
  file(READ ${_py_dir}/${_file}.py SAGEBOX_PY_${_key})
  string(FIND "${SAGEBOX_PY_${_key}}" ")sbxpy" _clash)
  if(NOT _clash EQUAL -1)
    message(FATAL_ERROR "${_file}.py contains the raw-string delimiter )sbxpy")
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_py_dir}/${_file}.py)
endforeach()
configure_file(${_py_dir}/python_sources.cc.in ${CMAKE_BINARY_DIR}/generated/python_sources.cc
               @ONLY)
target_sources(sagebox_endpoint_python PRIVATE ${CMAKE_BINARY_DIR}/generated/python_sources.cc)
set_source_files_properties(${CMAKE_BINARY_DIR}/generated/python_sources.cc
                            PROPERTIES COMPILE_OPTIONS -Wno-overlength-strings)

# libtorch's CMake config prints a page of Caffe2 notes; its imported targets carry
# SYSTEM include directories, so -Werror never sees warnings from its headers.
# SAGEBOX_TORCH=OFF leaves libtorch out (no endpoint_torch, no sagebox-torch): a
# development build of other modules then skips its slow compiles; `endpoint serve`
# serves Python-backend models only and says so.
option(SAGEBOX_TORCH "Build the TorchScript backends and sagebox-torch (libtorch)" ON)
if(SAGEBOX_TORCH)
  find_package(Torch REQUIRED)
  sagebox_layer(endpoint_torch sagebox_endpoint ${TORCH_LIBRARIES})
  list(APPEND SAGEBOX_LAYERS endpoint_torch)
endif()

# The HTTP faces (SageMaker Runtime and control plane, KServe v2, the MME container
# contract, /api/endpoint/): handlers over the shared server, torch-free.
sagebox_layer(endpoint_api sagebox_endpoint sagebox_http sagebox_catalog sagebox_db)
list(APPEND SAGEBOX_LAYERS endpoint_api)

# Scale-out: a router in front of several `endpoint serve` instances, by consistent
# hashing on the model (docs/endpoint.md). It forwards HTTP and knows no model.
sagebox_layer(endpoint_route sagebox_http PkgConfig::HTTPLIB)
list(APPEND SAGEBOX_LAYERS endpoint_route)
