#pragma once

#include <memory>

#include "models/model.hpp"

namespace nm {

// One factory per model, each defined in the file named for it.
std::unique_ptr<Model> make_iterative_model();
std::unique_ptr<Model> make_fork_model();
std::unique_ptr<Model> make_threads_model();
std::unique_ptr<Model> make_select_model();
std::unique_ptr<Model> make_poll_model();
std::unique_ptr<Model> make_epoll_model();
std::unique_ptr<Model> make_epoll_et_model();
std::unique_ptr<Model> make_thread_pool_model();
std::unique_ptr<Model> make_prefork_model();
std::unique_ptr<Model> make_reactors_model();
std::unique_ptr<Model> make_uring_model();

}  // namespace nm
