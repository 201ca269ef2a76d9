// RAII mount: unmounts (MNT_DETACH) on destruction unless released.
#pragma once

#include <string>
#include <utility>

namespace bock {

class ScopedMount {
public:
    ScopedMount() = default;
    explicit ScopedMount(std::string target) : target_(std::move(target)) {}
    ~ScopedMount() { reset(); }
    ScopedMount(const ScopedMount&) = delete;
    ScopedMount& operator=(const ScopedMount&) = delete;
    ScopedMount(ScopedMount&& o) noexcept : target_(std::exchange(o.target_, {})) {}
    ScopedMount& operator=(ScopedMount&& o) noexcept {
        if (this != &o) {
            reset();
            target_ = std::exchange(o.target_, {});
        }
        return *this;
    }
    const std::string& target() const { return target_; }
    bool active() const { return !target_.empty(); }
    std::string release() { return std::exchange(target_, {}); }
    void reset();  // umount2(target, MNT_DETACH), errors logged at debug level

private:
    std::string target_;
};

}  // namespace bock
