// roles.h: the platform roles and what each may do.
//
// Three roles, checked by the HTTP layer after it knows who is calling:
//   viewer  reads everything (GET/HEAD), changes nothing;
//   user    reads everything and creates, changes and deletes its own work
//           (jobs, projects, indexes: whatever a module records with an owner);
//   admin   everything, including other users' work and the users themselves
//           (accounts, tokens, access keys).
// "Own work" is decided by the module that owns the object (it knows the owner);
// this file only says which kinds of action a role may attempt at all. The label
// module's project roles refine these inside a project; they never widen them.
//
// Thread-safety: pure functions and values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sagebox::auth {

enum class Role { kViewer, kUser, kAdmin };

enum class Action {
  kRead,         // GET/HEAD of anything the module shows
  kWriteOwn,     // create, or change/delete something the caller owns
  kWriteAny,     // change/delete someone else's work
  kManageUsers,  // users, roles, passwords, tokens and access keys of anyone
};

// true when `role` may perform `action`:
//             kRead  kWriteOwn  kWriteAny  kManageUsers
//   viewer     yes     no         no         no
//   user       yes     yes        no         no
//   admin      yes     yes        yes        yes
bool Allows(Role role, Action action);

// The action an HTTP method asks for when nothing more specific is known:
// GET, HEAD and OPTIONS read; every other method writes (own work). Compared
// case-sensitively, as HTTP methods are.
Action ActionForMethod(std::string_view method);

// "admin", "user", "viewer".
std::string_view RoleName(Role role);
// The role named exactly (lower case), or nullopt.
std::optional<Role> ParseRole(std::string_view name);

// Who is calling, once a token, session or access key has been verified.
struct Principal {
  int64_t user_id = 0;
  std::string name;
  Role role = Role::kViewer;
  bool operator==(const Principal&) const = default;
};

}  // namespace sagebox::auth
