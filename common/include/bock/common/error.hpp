// The one error type of Bock: an errno-style code, a message that names the
// thing and the cause, an optional hint that tells the user how to fix it,
// and the exit status the CLI should use. Errors are wrapped with context as
// they travel up:  open `/etc/subuid`: no such file or directory
//   -> read subordinate ids: open `/etc/subuid`: no such file or directory
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace bock {

class Error {
public:
    Error() = default;
    Error(int code, std::string message) : code_(code), message_(std::move(message)) {}

    // An error from the current errno: "MESSAGE: strerror(errno)".
    static Error from_errno(std::string message) { return Error(errno, std::move(message)); }
    static Error from_errno(int code, std::string message) { return Error(code, std::move(message)); }

    int code() const { return code_; }
    const std::string& message() const { return message_; }
    const std::string& hint() const { return hint_; }
    int exit_status() const { return exit_status_; }

    // Prepends "context: " to the message.
    Error& wrap(std::string_view context) & {
        message_ = std::string(context) + ": " + message_;
        return *this;
    }
    Error&& wrap(std::string_view context) && { return std::move(wrap(context)); }

    Error& with_hint(std::string hint) & { hint_ = std::move(hint); return *this; }
    Error&& with_hint(std::string hint) && { return std::move(with_hint(std::move(hint))); }
    Error& with_exit(int status) & { exit_status_ = status; return *this; }
    Error&& with_exit(int status) && { return std::move(with_exit(status)); }

    // "message: lower-cased strerror(code)" (no strerror when code is 0).
    std::string to_string() const;

private:
    int code_ = 0;
    std::string message_;
    std::string hint_;
    int exit_status_ = 125;  // Docker's "the engine itself failed"
};

// Builds an Error from a format string, without errno.
template <class... Args>
Error make_error(fmt::format_string<Args...> f, Args&&... args) {
    return Error(0, fmt::format(f, std::forward<Args>(args)...));
}
// Builds an Error from errno (read before formatting) and a format string.
template <class... Args>
Error errno_error(fmt::format_string<Args...> f, Args&&... args) {
    int saved = errno;
    return Error(saved, fmt::format(f, std::forward<Args>(args)...));
}

// Result<T>: a value or an Error (tl::expected-style, minimal).
template <class T>
class [[nodiscard]] Result {
public:
    Result(const T& v) : v_(std::in_place_index<0>, v) {}
    Result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}
    Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}
    template <class U>
        requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
                 !std::is_same_v<std::decay_t<U>, Error>)
    Result(U&& u) : v_(std::in_place_index<0>, T(std::forward<U>(u))) {}

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    Error& error() & { return std::get<1>(v_); }
    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

    template <class U>
    T value_or(U&& fallback) const& {
        return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
    }
    template <class U>
    T value_or(U&& fallback) && {
        return has_value() ? std::move(value()) : static_cast<T>(std::forward<U>(fallback));
    }

    // Wraps the error (if any) with context; passes a value through.
    Result&& context(std::string_view c) && {
        if (!has_value()) error().wrap(c);
        return std::move(*this);
    }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error e) : err_(std::move(e)), ok_(false) {}
    bool has_value() const { return ok_; }
    explicit operator bool() const { return ok_; }
    void value() const {}
    Error& error() & { return err_; }
    const Error& error() const& { return err_; }
    Error&& error() && { return std::move(err_); }
    Result&& context(std::string_view c) && {
        if (!ok_) err_.wrap(c);
        return std::move(*this);
    }

private:
    Error err_;
    bool ok_ = true;
};

inline Result<void> ok() { return {}; }

}  // namespace bock

// BOCK_TRY(expr): evaluates a Result; returns its Error from the enclosing
// function, or yields its value.  auto fd = BOCK_TRY(sys::open(path, O_RDONLY));
#define BOCK_TRY(expr)                                                   \
    ({                                                                   \
        auto bock_try_r_ = (expr);                                       \
        if (!bock_try_r_.has_value()) return std::move(bock_try_r_).error(); \
        std::move(bock_try_r_).value();                                  \
    })

// BOCK_TRY_CTX(expr, "context"): the same, wrapping the error with context.
#define BOCK_TRY_CTX(expr, ctx)                                          \
    ({                                                                   \
        auto bock_try_r_ = (expr);                                       \
        if (!bock_try_r_.has_value())                                    \
            return std::move(std::move(bock_try_r_).error().wrap(ctx));  \
        std::move(bock_try_r_).value();                                  \
    })
