// The libcurl functions bock_image calls, defined here and forwarded to
// libcurl.so.4 opened with dlopen on the first call (curl_lazy.hpp).
// bock does not link libcurl, so these definitions are the ones its calls
// bind to; they are not exported (no -rdynamic), so libcurl's own calls
// to itself stay inside it. A missing library makes curl_global_init fail
// and curl_easy_init return null, which the callers turn into errors
// naming curl_load_error().
#include "curl_lazy.hpp"

#include <curl/curl.h>
#include <dlfcn.h>

#include <cstdarg>
#include <mutex>

namespace bock::image {
namespace {

struct Curl {
    void* lib = nullptr;
    std::string error;
    CURLcode (*global_init)(long) = nullptr;
    CURL* (*easy_init)() = nullptr;
    void (*easy_cleanup)(CURL*) = nullptr;
    CURLcode (*easy_perform)(CURL*) = nullptr;
    CURLcode (*easy_setopt)(CURL*, CURLoption, ...) = nullptr;
    CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...) = nullptr;
    const char* (*easy_strerror)(CURLcode) = nullptr;
    char* (*easy_escape)(CURL*, const char*, int) = nullptr;
    void (*free)(void*) = nullptr;
    curl_slist* (*slist_append)(curl_slist*, const char*) = nullptr;
    void (*slist_free_all)(curl_slist*) = nullptr;
    curl_version_info_data* (*version_info)(CURLversion) = nullptr;
};

template <typename F>
bool bind(Curl& c, F& f, const char* name) {
    f = reinterpret_cast<F>(::dlsym(c.lib, name));
    if (!f && c.error.empty()) c.error = std::string("libcurl.so.4 has no ") + name;
    return f != nullptr;
}

const Curl& curl() {
    static Curl c;
    static std::once_flag once;
    std::call_once(once, [] {
        c.lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (!c.lib) {
            const char* e = ::dlerror();
            c.error = e ? e : "dlopen libcurl.so.4 failed";
            return;
        }
        bool all = bind(c, c.global_init, "curl_global_init") & bind(c, c.easy_init, "curl_easy_init") &
                   bind(c, c.easy_cleanup, "curl_easy_cleanup") & bind(c, c.easy_perform, "curl_easy_perform") &
                   bind(c, c.easy_setopt, "curl_easy_setopt") & bind(c, c.easy_getinfo, "curl_easy_getinfo") &
                   bind(c, c.easy_strerror, "curl_easy_strerror") & bind(c, c.easy_escape, "curl_easy_escape") &
                   bind(c, c.free, "curl_free") & bind(c, c.slist_append, "curl_slist_append") &
                   bind(c, c.slist_free_all, "curl_slist_free_all") & bind(c, c.version_info, "curl_version_info");
        if (!all) {
            ::dlclose(c.lib);
            c = Curl{nullptr, c.error};
        }
    });
    return c;
}

}  // namespace

std::string curl_load_error() { return curl().error; }

}  // namespace bock::image

using bock::image::curl;

extern "C" {

CURLcode curl_global_init(long flags) { return curl().lib ? curl().global_init(flags) : CURLE_FAILED_INIT; }

CURL* curl_easy_init() { return curl().lib ? curl().easy_init() : nullptr; }

void curl_easy_cleanup(CURL* h) {
    if (h) curl().easy_cleanup(h);
}

CURLcode curl_easy_perform(CURL* h) { return curl().easy_perform(h); }

// The one argument after the option is a long, a pointer (object or
// function), a curl_off_t or a blob pointer, by the option's number range
// (curl.h's CURLOPTTYPE_*), as libcurl reads it.
CURLcode curl_easy_setopt(CURL* h, CURLoption option, ...) {
    va_list ap;
    va_start(ap, option);
    CURLcode r;
    if (option < CURLOPTTYPE_OBJECTPOINT) {
        r = curl().easy_setopt(h, option, va_arg(ap, long));
    } else if (option < CURLOPTTYPE_FUNCTIONPOINT) {
        r = curl().easy_setopt(h, option, va_arg(ap, void*));
    } else if (option < CURLOPTTYPE_OFF_T) {
        r = curl().easy_setopt(h, option, va_arg(ap, void (*)()));
    } else if (option < CURLOPTTYPE_BLOB) {
        r = curl().easy_setopt(h, option, va_arg(ap, curl_off_t));
    } else {
        r = curl().easy_setopt(h, option, va_arg(ap, void*));
    }
    va_end(ap);
    return r;
}

CURLcode curl_easy_getinfo(CURL* h, CURLINFO info, ...) {
    va_list ap;
    va_start(ap, info);
    CURLcode r = curl().easy_getinfo(h, info, va_arg(ap, void*));
    va_end(ap);
    return r;
}

const char* curl_easy_strerror(CURLcode code) {
    return curl().lib ? curl().easy_strerror(code) : "libcurl is not loaded";
}

char* curl_easy_escape(CURL* h, const char* s, int len) { return curl().easy_escape(h, s, len); }

void curl_free(void* p) {
    if (p) curl().free(p);
}

curl_slist* curl_slist_append(curl_slist* l, const char* s) {
    return curl().lib ? curl().slist_append(l, s) : nullptr;
}

void curl_slist_free_all(curl_slist* l) {
    if (l) curl().slist_free_all(l);
}

curl_version_info_data* curl_version_info(CURLversion v) {
    if (curl().lib) return curl().version_info(v);
    static curl_version_info_data none{};
    none.version = "not loaded (libcurl.so.4 not found)";
    return &none;
}

}  // extern "C"
