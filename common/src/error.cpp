#include "bock/common/error.hpp"

#include <cctype>
#include <cstring>

namespace bock {

std::string Error::to_string() const {
    if (code_ == 0) return message_;
    std::string reason = std::strerror(code_);
    if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(reason[0])));
    if (message_.empty()) return reason;
    return message_ + ": " + reason;
}

}  // namespace bock
