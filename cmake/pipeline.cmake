# The pipeline module (src/pipeline/): declarative ML pipelines on Amazon States Language
# (issue 16, docs/pipeline.md). Each layer lives in src/pipeline/<name>; dependencies
# point one way:
#   pipeline_asl    the language: definitions parsed into a typed model and validated
#                   statically (definition.h); paths, payload templates, intrinsic
#                   functions, Choice rules, error names and retry delays, the context object
#   pipeline_engine the interpreter: runs a StateMachine with Retry/Catch, Map and Parallel
#                   fan-out, history events, checkpoints for resume and opt-in step caching,
#                   through injected dispatcher, clock and journal interfaces
#   pipeline_slurm  the Slurm executor's client: sbatch job arrays, squeue/sacct status,
#                   scancel, resubmission of failed indices, through an injectable runner
#   pipeline_tracking  runs, metrics, params, tags, artifacts, cost and the model registry
#                   on the platform database: MLflow's data model and search grammar
#   pipeline_config the YAML config (schema, file:line:col errors) and its compiler to
#                   standard ASL (Map over stages, Map over candidates, SageMaker jobs)
#   pipeline_sagemaker  SageMaker processing and training jobs as local processes on the
#                   job runner: requests, the /opt/ml work area, sharding, uploads, metric
#                   regexes, cost, the sagemaker_jobs table (job_service.h)
#   pipeline_runtime  executions on the platform: state machines, executions, history and
#                   checkpoints in the database (execution_store.h), the dispatcher that
#                   runs SageMaker jobs and sagebox-register-best (dispatcher.h), and the
#                   service that runs, stops, waits for and resumes them (pipeline_service.h)
#   pipeline_api    the module on `sagebox serve`: the SageMaker job actions
#                   (sagemaker_routes.h), the Step Functions API (sfn_routes.h) and the
#                   MLflow REST subset (mlflow_routes.h)
sagebox_layer(pipeline_asl sagebox_core nlohmann_json::nlohmann_json)
# States.Hash digests (intrinsics.cc) come from Debian's libssl-dev, as SigV4's do.
target_link_libraries(sagebox_pipeline_asl PUBLIC OpenSSL::Crypto)
sagebox_layer(pipeline_slurm sagebox_core nlohmann_json::nlohmann_json)
# OpenSSL: sha256 of artifacts and base64 page tokens.
sagebox_layer(pipeline_tracking sagebox_db sagebox_core nlohmann_json::nlohmann_json OpenSSL::Crypto)
# libarchive writes SageMaker's model.tar.gz / output.tar.gz.
sagebox_layer(pipeline_sagemaker sagebox_jobs sagebox_catalog sagebox_db
              nlohmann_json::nlohmann_json LibArchive::LibArchive)
find_package(yaml-cpp REQUIRED)
sagebox_layer(pipeline_config sagebox_core nlohmann_json::nlohmann_json yaml-cpp)
sagebox_layer(pipeline_engine sagebox_pipeline_asl)
# The engine's Map/Parallel threads and the step cache's SHA-256 (Debian's libssl-dev).
target_link_libraries(sagebox_pipeline_engine PUBLIC Threads::Threads OpenSSL::Crypto)
sagebox_layer(pipeline_runtime sagebox_pipeline_engine sagebox_pipeline_sagemaker sagebox_pipeline_slurm
              sagebox_pipeline_tracking sagebox_jobs sagebox_db)
sagebox_layer(pipeline_api sagebox_pipeline_runtime sagebox_pipeline_tracking
              sagebox_pipeline_sagemaker sagebox_http)
list(APPEND SAGEBOX_LAYERS pipeline_asl pipeline_slurm pipeline_tracking pipeline_sagemaker
     pipeline_api pipeline_config pipeline_engine pipeline_runtime)
# pipeline_tracking_test and pipeline_sagemaker_test run every case on SQLite and on
# PostgreSQL (the db layer's fixture).
set(SAGEBOX_pipeline_tracking_TEST_PROPERTIES ${SAGEBOX_db_TEST_PROPERTIES})
set(SAGEBOX_pipeline_sagemaker_TEST_PROPERTIES ${SAGEBOX_db_TEST_PROPERTIES})
set(SAGEBOX_pipeline_runtime_TEST_PROPERTIES ${SAGEBOX_db_TEST_PROPERTIES})

# The real-cluster cases of pipeline_slurm_test need a one-node Slurm cluster: the fixture
# `slurm` starts a private one on loopback (scripts/test-slurm.sh: its own slurm.conf,
# munge key and daemons under /tmp/sagebox-slurm-$UID) before them and stops it after the
# last caller leaves. SAGEBOX_TEST_SLURM names its slurm.conf; with CI set, a missing
# cluster fails those cases instead of skipping them.
execute_process(COMMAND id -u OUTPUT_VARIABLE sagebox_uid OUTPUT_STRIP_TRAILING_WHITESPACE)
set(SAGEBOX_TEST_SLURM_CONF "/tmp/sagebox-slurm-${sagebox_uid}/etc/slurm.conf")
set(SAGEBOX_pipeline_slurm_TEST_PROPERTIES
    FIXTURES_REQUIRED slurm
    ENVIRONMENT_MODIFICATION "SAGEBOX_TEST_SLURM=set:${SAGEBOX_TEST_SLURM_CONF}")
if(SAGEBOX_TESTS)
  set(slurm_script ${CMAKE_SOURCE_DIR}/scripts/test-slurm.sh)
  add_test(NAME slurm_start COMMAND ${slurm_script} start)
  add_test(NAME slurm_stop COMMAND ${slurm_script} stop)
  set_tests_properties(slurm_start PROPERTIES FIXTURES_SETUP slurm TIMEOUT 150)
  set_tests_properties(slurm_stop PROPERTIES FIXTURES_CLEANUP slurm TIMEOUT 60)
endif()

if(SAGEBOX_TESTS)
  # The example's job scripts (examples/pipeline/jobs/) through a fake /opt/ml work area:
  # features for iris, one candidate with 3 folds (its metric equals scikit-learn's), a
  # prediction, and a failing job's output/failure.
  add_test(NAME pipeline_jobs COMMAND ${CMAKE_SOURCE_DIR}/tests/pipeline/jobs_test.sh)
  set_tests_properties(pipeline_jobs PROPERTIES TIMEOUT 300 COST 30)
endif()
