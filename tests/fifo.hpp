#pragma once
// Test helper: a FIFO in a directory of its own, for tests that a reader
// refuses special files. Should the reader open the FIFO anyway, a writer
// that opens and closes it lets the read end (and the test fail) instead of
// hanging the test.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>

namespace dnsd::test {

class Fifo {
public:
    /// `prefix`: the directory's name, made unique by the process id.
    Fifo(const std::string& prefix, const std::string& name)
        : dir_(std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(getpid()))) {
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        path_ = (dir_ / name).string();
        if (mkfifo(path_.c_str(), 0600) != 0) throw std::runtime_error("mkfifo " + path_);
        unblock_ = std::thread([this] {
            while (!done_) {
                const int fd = open(path_.c_str(), O_WRONLY | O_NONBLOCK);
                if (fd >= 0) {
                    close(fd);
                    return;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        });
    }
    ~Fifo() {
        done_ = true;
        unblock_.join();
        std::filesystem::remove_all(dir_);
    }
    Fifo(const Fifo&) = delete;
    Fifo& operator=(const Fifo&) = delete;

    const std::filesystem::path& dir() const noexcept { return dir_; }
    const std::string& path() const noexcept { return path_; }

private:
    std::filesystem::path dir_;
    std::string path_;
    std::atomic<bool> done_{false};
    std::thread unblock_;
};

}  // namespace dnsd::test
