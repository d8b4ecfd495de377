// pool.h (internal to src/db): the connection pool of both backends.
//
// A connection of the C libraries (sqlite3*, PGconn*) is used by one thread at a time, so
// every call leases one: an idle one if there is, else a new one. A lease hands it back
// when it ends; a connection that is broken or still inside a transaction is closed
// instead (closing rolls back), so the next caller never inherits half a transaction.
//
// Thread-safety: Acquire and the end of leases are safe from any thread; a Lease itself
// has one owner.
#pragma once

#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

#include "core/status.h"

namespace sagebox::db {

template <typename Conn>
class ConnectionPool {
 public:
  using CloseFn = void (*)(Conn);
  using ReusableFn = bool (*)(Conn);

  // Keeps at most `max_idle` connections open between calls; `reusable` says whether a
  // returned connection may be kept, `close` closes one.
  ConnectionPool(size_t max_idle, CloseFn close, ReusableFn reusable)
      : max_idle_(max_idle), close_(close), reusable_(reusable) {}
  ~ConnectionPool() {
    for (Conn c : idle_) close_(c);
  }
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  class Lease {
   public:
    Lease(ConnectionPool* pool, Conn conn) : pool_(pool), conn_(conn) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(std::exchange(o.conn_, nullptr)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_ != nullptr) pool_->Release(conn_);
    }
    Conn get() const { return conn_; }

   private:
    ConnectionPool* pool_;
    Conn conn_;
  };

  // An idle connection, or a new one from `connect()` (a StatusOr<Conn>), whose error
  // it returns.
  template <typename Connect>
  StatusOr<Lease> Acquire(Connect&& connect) {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        Conn c = idle_.back();
        idle_.pop_back();
        return Lease(this, c);
      }
    }
    ASSIGN_OR_RETURN(Conn c, connect());
    return Lease(this, c);
  }

 private:
  void Release(Conn c) {
    if (reusable_(c)) {
      std::lock_guard lock(mu_);
      if (idle_.size() < max_idle_) {
        idle_.push_back(c);
        return;
      }
    }
    close_(c);
  }

  const size_t max_idle_;
  const CloseFn close_;
  const ReusableFn reusable_;
  std::mutex mu_;
  std::vector<Conn> idle_;
};

}  // namespace sagebox::db
