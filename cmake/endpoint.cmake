# Endpoint: many models behind one SageMaker-style multi-model endpoint (src/endpoint/).
sagebox_layer(endpoint sagebox_core nlohmann_json::nlohmann_json)
list(APPEND SAGEBOX_LAYERS endpoint)
