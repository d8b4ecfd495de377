# The label module (src/label/): human feedback with a review → rework loop.
# Dependencies point one way:
#   label          project kinds, configs and requirement checks, Ground Truth input
#                  manifests and the public datasets' converters, exports, agreement
#   label_store    the quality loop on the platform database: projects, members, items,
#                  reservations, annotations and their versions, reviews, batches, metrics
#   label_api      /api/label/ on `sagebox serve`
sagebox_layer(label sagebox_core nlohmann_json::nlohmann_json)
list(APPEND SAGEBOX_LAYERS label)
sagebox_layer(label_store sagebox_label sagebox_db sagebox_store)
sagebox_layer(label_api sagebox_label_store sagebox_http)
list(APPEND SAGEBOX_LAYERS label_store label_api)
# label_store_test runs every case on SQLite and on PostgreSQL (the db layer's fixture).
set(SAGEBOX_label_store_TEST_PROPERTIES ${SAGEBOX_db_TEST_PROPERTIES})
