#pragma once
/// SnapshotSlot: one writer publishes immutable snapshots; many readers see
/// the newest one without taking a lock on their hot path.
///
/// The design follows the "state holder" idea: the slot keeps a generation
/// counter next to the shared_ptr. A reader keeps a Local view with its own
/// copy of the pointer and the generation it saw; refresh() is one relaxed
/// atomic load in the common case and takes the mutex only when a new
/// snapshot was published (rare: reloads, health changes). Old snapshots die
/// when the last reader has moved on.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

namespace dnsd {

template <typename T>
class SnapshotSlot {
public:
    explicit SnapshotSlot(std::shared_ptr<const T> initial) : current_(std::move(initial)) {}

    /// Any thread. Publishes `next`; readers pick it up on their next refresh().
    void publish(std::shared_ptr<const T> next) {
        std::lock_guard lock(mutex_);
        current_ = std::move(next);
        generation_.fetch_add(1, std::memory_order_release);
    }

    /// Any thread. A counted reference to the current snapshot (takes the mutex).
    std::shared_ptr<const T> load() const {
        std::lock_guard lock(mutex_);
        return current_;
    }

    /// A reader's cached view. Not shared between threads.
    class Local {
    public:
        explicit Local(const SnapshotSlot& slot) : slot_(&slot) { reload(); }
        /// One atomic load when nothing changed.
        const T& get() noexcept {
            if (slot_->generation_.load(std::memory_order_acquire) != seen_) reload();
            return *ptr_;
        }
        const std::shared_ptr<const T>& shared() noexcept {
            get();
            return ptr_;
        }

    private:
        void reload() {
            std::lock_guard lock(slot_->mutex_);
            ptr_ = slot_->current_;
            seen_ = slot_->generation_.load(std::memory_order_relaxed);
        }
        const SnapshotSlot* slot_;
        std::shared_ptr<const T> ptr_;
        std::uint64_t seen_ = 0;
    };

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const T> current_;
    std::atomic<std::uint64_t> generation_{0};
};

}  // namespace dnsd
