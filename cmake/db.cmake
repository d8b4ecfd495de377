# db.cmake: the `db` layer (src/db: SQLite and PostgreSQL behind db::Database) and the
# throwaway PostgreSQL cluster its tests run against.
#
# Included by the top-level CMakeLists.txt right after SAGEBOX_LAYERS is set, so the
# layer joins the test loop there (db_test from src/db/*_test.cc).
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
sagebox_layer(db sagebox_core SQLite::SQLite3 PostgreSQL::PostgreSQL)
list(APPEND SAGEBOX_LAYERS db)

# The postgres cases of db_test need a server: the fixture `postgres` starts a private
# cluster (scripts/test-postgres.sh, never the system service) before them and stops it
# after. The top-level loop adds SAGEBOX_db_TEST_PROPERTIES to every discovered db test;
# CI=1 in the environment turns a missing server into a failure instead of a skip.
# The sqlite cases share db_test's tests, so they too need the fixture: without the
# PostgreSQL 15 server binaries postgres_start fails and says what to install.
set(SAGEBOX_TEST_POSTGRES_PORT 55432 CACHE STRING "Port of the test PostgreSQL cluster")
set(SAGEBOX_TEST_POSTGRES_URL
    "postgresql://postgres@127.0.0.1:${SAGEBOX_TEST_POSTGRES_PORT}/sagebox_test")
set(SAGEBOX_db_TEST_PROPERTIES
    FIXTURES_REQUIRED postgres
    ENVIRONMENT_MODIFICATION "SAGEBOX_TEST_POSTGRES=set:${SAGEBOX_TEST_POSTGRES_URL}")
if(SAGEBOX_TESTS)
  set(pg_script ${CMAKE_SOURCE_DIR}/scripts/test-postgres.sh)
  set(pg_env "SAGEBOX_TEST_POSTGRES_PORT=${SAGEBOX_TEST_POSTGRES_PORT}")
  add_test(NAME postgres_start COMMAND ${pg_script} start)
  add_test(NAME postgres_stop COMMAND ${pg_script} stop)
  set_tests_properties(postgres_start PROPERTIES FIXTURES_SETUP postgres TIMEOUT 120
                                                 ENVIRONMENT "${pg_env}")
  set_tests_properties(postgres_stop PROPERTIES FIXTURES_CLEANUP postgres TIMEOUT 60
                                                ENVIRONMENT "${pg_env}")
endif()
