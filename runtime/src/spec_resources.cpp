// linux.resources: parsing with errors that name the field path
// ("linux.resources.memory.limit: must be an integer"), shared by
// config.json and `bock-oci update --resources`.
#include <limits>

#include "bock/runtime/spec.hpp"

namespace bock::runtime {

using nlohmann::json;

namespace {

std::string sub(std::string_view base, std::string_view key) {
    return base.empty() ? std::string(key) : fmt::format("{}.{}", base, key);
}

const json* find(const json& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end() || it->is_null()) return nullptr;
    return &*it;
}

Result<void> get_i64(const json& o, const char* key, std::string_view base, std::optional<int64_t>& out) {
    const json* v = find(o, key);
    if (!v) return ok();
    if (!v->is_number_integer()) return make_error("{}: must be an integer", sub(base, key));
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
        out = std::numeric_limits<int64_t>::max();  // "max" written as UINT64_MAX
    else
        out = v->get<int64_t>();
    return ok();
}

Result<void> get_u64(const json& o, const char* key, std::string_view base, std::optional<uint64_t>& out,
                     uint64_t max = std::numeric_limits<uint64_t>::max()) {
    const json* v = find(o, key);
    if (!v) return ok();
    if (!v->is_number_integer() || (!v->is_number_unsigned() && v->get<int64_t>() < 0))
        return make_error("{}: must be a non-negative integer", sub(base, key));
    if (v->get<uint64_t>() > max) return make_error("{}: must be at most {}", sub(base, key), max);
    out = v->get<uint64_t>();
    return ok();
}

Result<void> get_u16(const json& o, const char* key, std::string_view base, std::optional<uint16_t>& out) {
    std::optional<uint64_t> v;
    BOCK_TRY(get_u64(o, key, base, v, 65535));
    if (v) out = static_cast<uint16_t>(*v);
    return ok();
}

Result<void> get_bool(const json& o, const char* key, std::string_view base, std::optional<bool>& out) {
    const json* v = find(o, key);
    if (!v) return ok();
    if (!v->is_boolean()) return make_error("{}: must be true or false", sub(base, key));
    out = v->get<bool>();
    return ok();
}

Result<void> get_string(const json& o, const char* key, std::string_view base, std::string& out) {
    const json* v = find(o, key);
    if (!v) return ok();
    if (!v->is_string()) return make_error("{}: must be a string", sub(base, key));
    out = v->get<std::string>();
    return ok();
}

Result<const json*> get_object(const json& o, const char* key, std::string_view base) {
    const json* v = find(o, key);
    if (v && !v->is_object()) return make_error("{}: must be an object", sub(base, key));
    return v;
}

template <typename F>
Result<void> each(const json& o, const char* key, std::string_view base, F&& f) {
    const json* v = find(o, key);
    if (!v) return ok();
    if (!v->is_array()) return make_error("{}: must be an array", sub(base, key));
    for (size_t i = 0; i < v->size(); ++i) {
        std::string path = fmt::format("{}[{}]", sub(base, key), i);
        if (!(*v)[i].is_object()) return make_error("{}: must be an object", path);
        BOCK_TRY(f((*v)[i], path));
    }
    return ok();
}

Result<void> major_minor(const json& d, const std::string& path, int64_t& major, int64_t& minor) {
    std::optional<int64_t> ma, mi;
    BOCK_TRY(get_i64(d, "major", path, ma));
    BOCK_TRY(get_i64(d, "minor", path, mi));
    if (!ma || !mi) return make_error("{}: needs major and minor", path);
    major = *ma;
    minor = *mi;
    return ok();
}

Result<void> throttle(const json& b, const char* key, std::string_view base, std::vector<ThrottleDevice>& out) {
    return each(b, key, base, [&](const json& d, const std::string& path) -> Result<void> {
        ThrottleDevice t;
        BOCK_TRY(major_minor(d, path, t.major, t.minor));
        std::optional<uint64_t> rate;
        BOCK_TRY(get_u64(d, "rate", path, rate));
        if (!rate) return make_error("{}.rate: missing", path);
        t.rate = *rate;
        out.push_back(t);
        return ok();
    });
}

Result<void> parse_memory(const json& m, const std::string& base, Resources::Memory& out) {
    BOCK_TRY(get_i64(m, "limit", base, out.limit));
    BOCK_TRY(get_i64(m, "reservation", base, out.reservation));
    BOCK_TRY(get_i64(m, "swap", base, out.swap));
    BOCK_TRY(get_i64(m, "kernel", base, out.kernel));
    BOCK_TRY(get_i64(m, "kernelTCP", base, out.kernel_tcp));
    BOCK_TRY(get_u64(m, "swappiness", base, out.swappiness));
    if (out.swappiness && *out.swappiness > 100 && *out.swappiness != std::numeric_limits<uint64_t>::max())
        return make_error("{}.swappiness: must be between 0 and 100", base);
    BOCK_TRY(get_bool(m, "disableOOMKiller", base, out.disable_oom_killer));
    BOCK_TRY(get_bool(m, "useHierarchy", base, out.use_hierarchy));
    if (out.limit && out.swap && *out.swap > 0 && *out.limit > 0 && *out.swap < *out.limit)
        return make_error("{}.swap: must be at least memory.limit (it is memory plus swap)", base);
    return ok();
}

Result<void> parse_cpu(const json& c, const std::string& base, Resources::Cpu& out) {
    BOCK_TRY(get_u64(c, "shares", base, out.shares));
    BOCK_TRY(get_i64(c, "quota", base, out.quota));
    BOCK_TRY(get_u64(c, "period", base, out.period));
    BOCK_TRY(get_i64(c, "realtimeRuntime", base, out.realtime_runtime));
    BOCK_TRY(get_u64(c, "realtimePeriod", base, out.realtime_period));
    BOCK_TRY(get_i64(c, "idle", base, out.idle));
    BOCK_TRY(get_string(c, "cpus", base, out.cpus));
    BOCK_TRY(get_string(c, "mems", base, out.mems));
    return ok();
}

Result<void> parse_block_io(const json& b, const std::string& base, Resources::BlockIo& out) {
    BOCK_TRY(get_u16(b, "weight", base, out.weight));
    BOCK_TRY(get_u16(b, "leafWeight", base, out.leaf_weight));
    BOCK_TRY(each(b, "weightDevice", base, [&](const json& d, const std::string& path) -> Result<void> {
        WeightDevice w;
        BOCK_TRY(major_minor(d, path, w.major, w.minor));
        BOCK_TRY(get_u16(d, "weight", path, w.weight));
        BOCK_TRY(get_u16(d, "leafWeight", path, w.leaf_weight));
        out.weight_device.push_back(w);
        return ok();
    }));
    BOCK_TRY(throttle(b, "throttleReadBpsDevice", base, out.read_bps));
    BOCK_TRY(throttle(b, "throttleWriteBpsDevice", base, out.write_bps));
    BOCK_TRY(throttle(b, "throttleReadIOPSDevice", base, out.read_iops));
    BOCK_TRY(throttle(b, "throttleWriteIOPSDevice", base, out.write_iops));
    return ok();
}

Result<void> parse_devices(const json& j, std::string_view base, std::vector<DeviceRule>& out) {
    return each(j, "devices", base, [&](const json& d, const std::string& path) -> Result<void> {
        DeviceRule r;
        const json* allow = find(d, "allow");
        if (!allow || !allow->is_boolean()) return make_error("{}.allow: must be true or false", path);
        r.allow = allow->get<bool>();
        BOCK_TRY(get_string(d, "type", path, r.type));
        if (r.type != "a" && r.type != "c" && r.type != "b")
            return make_error("{}.type: `{}` is not a, c or b", path, r.type);
        BOCK_TRY(get_i64(d, "major", path, r.major));
        BOCK_TRY(get_i64(d, "minor", path, r.minor));
        if (r.major && *r.major < 0) r.major.reset();  // -1: any
        if (r.minor && *r.minor < 0) r.minor.reset();
        BOCK_TRY(get_string(d, "access", path, r.access));
        if (r.access.empty()) r.access = "rwm";
        for (char ch : r.access)
            if (ch != 'r' && ch != 'w' && ch != 'm')
                return make_error("{}.access: `{}` may only hold r, w and m", path, r.access);
        out.push_back(r);
        return ok();
    });
}

Result<void> parse_network(const json& n, const std::string& base, Resources::Network& out) {
    std::optional<uint64_t> cls;
    BOCK_TRY(get_u64(n, "classID", base, cls, std::numeric_limits<uint32_t>::max()));
    if (cls) out.class_id = static_cast<uint32_t>(*cls);
    return each(n, "priorities", base, [&](const json& p, const std::string& path) -> Result<void> {
        std::string name;
        std::optional<uint64_t> prio;
        BOCK_TRY(get_string(p, "name", path, name));
        BOCK_TRY(get_u64(p, "priority", path, prio, std::numeric_limits<uint32_t>::max()));
        if (name.empty() || !prio) return make_error("{}: needs name and priority", path);
        out.priorities.emplace_back(name, static_cast<uint32_t>(*prio));
        return ok();
    });
}

}  // namespace

Result<Resources> parse_resources(const json& j, std::string_view base) {
    if (!j.is_object()) return make_error("{}: must be an object", base);
    Resources r;
    if (auto m = BOCK_TRY(get_object(j, "memory", base))) {
        r.memory.emplace();
        BOCK_TRY(parse_memory(*m, sub(base, "memory"), *r.memory));
    }
    if (auto c = BOCK_TRY(get_object(j, "cpu", base))) {
        r.cpu.emplace();
        BOCK_TRY(parse_cpu(*c, sub(base, "cpu"), *r.cpu));
    }
    if (auto p = BOCK_TRY(get_object(j, "pids", base))) {
        std::string path = sub(base, "pids");
        BOCK_TRY(get_i64(*p, "limit", path, r.pids_limit));
        if (!r.pids_limit) return make_error("{}.limit: missing", path);
    }
    if (auto b = BOCK_TRY(get_object(j, "blockIO", base))) {
        r.block_io.emplace();
        BOCK_TRY(parse_block_io(*b, sub(base, "blockIO"), *r.block_io));
    }
    BOCK_TRY(each(j, "hugepageLimits", base, [&](const json& h, const std::string& path) -> Result<void> {
        Resources::Hugepage hp;
        std::optional<uint64_t> limit;
        BOCK_TRY(get_string(h, "pageSize", path, hp.page_size));
        BOCK_TRY(get_u64(h, "limit", path, limit));
        if (hp.page_size.empty() || !limit) return make_error("{}: needs pageSize and limit", path);
        hp.limit = *limit;
        r.hugepage_limits.push_back(hp);
        return ok();
    }));
    BOCK_TRY(parse_devices(j, base, r.devices));
    if (auto n = BOCK_TRY(get_object(j, "network", base))) {
        r.network.emplace();
        BOCK_TRY(parse_network(*n, sub(base, "network"), *r.network));
    }
    if (auto u = BOCK_TRY(get_object(j, "unified", base))) {
        for (auto it = u->begin(); it != u->end(); ++it) {
            if (!it.value().is_string())
                return make_error("{}.{}: must be a string", sub(base, "unified"), it.key());
            if (it.key().find('/') != std::string::npos || it.key().find('.') == std::string::npos)
                return make_error("{}.{}: not a cgroup file name", sub(base, "unified"), it.key());
            r.unified[it.key()] = it.value().get<std::string>();
        }
    }
    return r;
}

std::vector<std::string> requested_limits(const Resources& r) {
    std::vector<std::string> out;
    auto add = [&](bool set, const char* name) {
        if (set) out.emplace_back(name);
    };
    if (const auto& m = r.memory) {
        add(m->limit.has_value(), "memory.limit");
        add(m->reservation.has_value(), "memory.reservation");
        add(m->swap.has_value(), "memory.swap");
        add(m->kernel.has_value(), "memory.kernel");
        add(m->kernel_tcp.has_value(), "memory.kernelTCP");
        add(m->swappiness.has_value(), "memory.swappiness");
        add(m->disable_oom_killer.value_or(false), "memory.disableOOMKiller");
    }
    if (const auto& c = r.cpu) {
        add(c->shares.has_value(), "cpu.shares");
        add(c->quota.has_value(), "cpu.quota");
        add(c->period.has_value(), "cpu.period");
        add(c->realtime_runtime.has_value() || c->realtime_period.has_value(), "cpu.realtime");
        add(!c->cpus.empty(), "cpu.cpus");
        add(!c->mems.empty(), "cpu.mems");
        add(c->idle.has_value(), "cpu.idle");
    }
    add(r.pids_limit.has_value(), "pids.limit");
    if (const auto& b = r.block_io) {
        add(b->weight.has_value() || b->leaf_weight.has_value() || !b->weight_device.empty(), "blockIO.weight");
        add(!b->read_bps.empty() || !b->write_bps.empty() || !b->read_iops.empty() || !b->write_iops.empty(),
            "blockIO.throttle");
    }
    add(!r.hugepage_limits.empty(), "hugepageLimits");
    // Device rules are not limits a rootless container misses: its devices
    // are bind mounts of nodes the user can already open.
    add(r.network && (r.network->class_id || !r.network->priorities.empty()), "network");
    for (const auto& [k, v] : r.unified) out.push_back("unified." + k);
    return out;
}

}  // namespace bock::runtime
