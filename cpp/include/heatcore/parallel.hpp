// Minimal fork-join helper shared by all kernels. No Python inside.
#pragma once
#include <algorithm>
#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace heatcore {

// Largest thread count any kernel accepts (heatcore.limits.MAX_THREADS on the Python side).
constexpr int kMaxThreads = 1024;

// Number of worker threads for a request: 0 means all hardware threads; 1..kMaxThreads is
// honoured up to 4 x the hardware threads (results never depend on the count, so more would only
// cost per-thread buffers); negative or above kMaxThreads throws std::invalid_argument before
// any per-thread buffer is allocated.
inline int resolve_threads(int threads) {
    unsigned hw = std::thread::hardware_concurrency();
    const int cores = hw == 0 ? 1 : static_cast<int>(std::min<unsigned>(hw, kMaxThreads));
    if (threads < 0 || threads > kMaxThreads)
        throw std::invalid_argument("threads must be in 0.." + std::to_string(kMaxThreads) +
                                    " (0 = all cores), got " + std::to_string(threads));
    if (threads == 0) return cores;
    return std::min(threads, std::min(kMaxThreads, 4 * cores));
}

// Calls fn(begin, end, worker) on `threads` contiguous chunks of [0, n). Runs inline when one
// chunk suffices. `min_chunk` keeps tiny jobs single-threaded. The first exception thrown by a
// worker is rethrown on the calling thread after all workers joined.
template <class Fn>
void parallel_for(std::size_t n, int threads, Fn&& fn, std::size_t min_chunk = 1) {
    if (n == 0) return;
    std::size_t t = static_cast<std::size_t>(resolve_threads(threads));
    if (min_chunk == 0) min_chunk = 1;
    t = std::max<std::size_t>(1, std::min(t, (n + min_chunk - 1) / min_chunk));
    if (t == 1) {
        fn(std::size_t{0}, n, 0);
        return;
    }
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(t);
    pool.reserve(t - 1);
    const std::size_t chunk = (n + t - 1) / t;
    for (std::size_t w = 1; w < t; ++w) {
        const std::size_t b = w * chunk, e = std::min(n, b + chunk);
        if (b >= e) break;
        pool.emplace_back([&, b, e, w] {
            try { fn(b, e, static_cast<int>(w)); } catch (...) { errors[w] = std::current_exception(); }
        });
    }
    try { fn(std::size_t{0}, std::min(n, chunk), 0); } catch (...) { errors[0] = std::current_exception(); }
    for (auto& th : pool) th.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace heatcore
