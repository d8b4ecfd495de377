# Jobs: child processes in their own process groups (time limits, log files,
# SIGTERM then SIGKILL on cancel) with their state in the relational database.
# Used by pipeline (processing/training jobs), endpoint, docs (async OCR) and rag.
sagebox_layer(jobs sagebox_db nlohmann_json::nlohmann_json)
list(APPEND SAGEBOX_LAYERS jobs)
