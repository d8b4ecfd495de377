# The label module (src/label/): human feedback with a review → rework loop.
# Dependencies point one way:
#   label          project kinds, configs and requirement checks, Ground Truth input
#                  manifests and the public datasets' converters, exports, agreement
#   label_store    the quality loop on the platform database: projects, members, items,
#                  reservations, annotations and their versions, reviews, batches, metrics
#   label_api      /api/label/ on `sagebox serve`
sagebox_layer(label sagebox_core nlohmann_json::nlohmann_json)
list(APPEND SAGEBOX_LAYERS label)
