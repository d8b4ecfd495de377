# Auth: users, roles, API tokens, access keys for SigV4, sessions (src/auth/).
# libsodium (Debian's libsodium-dev): argon2id password hashes, secretbox for
# access-key secrets at rest, SHA-256 of tokens, random bytes, constant-time compares.
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
sagebox_layer(auth sagebox_db sagebox_http PkgConfig::SODIUM)
list(APPEND SAGEBOX_LAYERS auth)
# The postgres cases of auth_test use db's throwaway cluster (cmake/db.cmake).
set(SAGEBOX_auth_TEST_PROPERTIES ${SAGEBOX_db_TEST_PROPERTIES})
