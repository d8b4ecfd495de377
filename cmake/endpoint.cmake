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
# TEMPORARY while the backends are built on their branches: a layer needs sources.
file(GLOB _ep_python_srcs ${CMAKE_SOURCE_DIR}/src/endpoint/python/*.cc)
if(_ep_python_srcs)
  sagebox_layer(endpoint_python sagebox_endpoint)
  list(APPEND SAGEBOX_LAYERS endpoint_python)
endif()

# libtorch's CMake config prints a page of Caffe2 notes; its imported targets carry
# SYSTEM include directories, so -Werror never sees warnings from its headers.
find_package(Torch REQUIRED)
file(GLOB _ep_torch_srcs ${CMAKE_SOURCE_DIR}/src/endpoint/torch/*.cc)
if(_ep_torch_srcs)
  sagebox_layer(endpoint_torch sagebox_endpoint ${TORCH_LIBRARIES})
  list(APPEND SAGEBOX_LAYERS endpoint_torch)
endif()

# The HTTP faces (SageMaker Runtime and control plane, KServe v2, the MME container
# contract, /api/endpoint/): handlers over the shared server, torch-free.
sagebox_layer(endpoint_api sagebox_endpoint sagebox_http sagebox_catalog)
list(APPEND SAGEBOX_LAYERS endpoint_api)
