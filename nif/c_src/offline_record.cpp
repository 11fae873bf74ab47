#include "offline_record.hpp"

#include <algorithm>
#include <cstring>

#include "atoms.hpp"
#include "spool_row.hpp"
#include "terms.hpp"
#include "unread/text.hpp"

namespace unread::nif {
namespace {

// {MegaSecs, Secs, MicroSecs} -> microseconds, as mod_offline numbers messages.
bool get_timestamp(ErlNifEnv* env, ERL_NIF_TERM term, std::int64_t& out) {
    const ERL_NIF_TERM* t;
    ErlNifSInt64 mega, sec, micro;
    if (!get_tuple(env, term, 3, t) || !enif_get_int64(env, t[0], &mega) ||
        !enif_get_int64(env, t[1], &sec) || !enif_get_int64(env, t[2], &micro))
        return false;
    if (mega < 0 || sec < 0 || micro < 0 || mega > 1'000'000'000 || sec >= 1'000'000 ||
        micro >= 1'000'000)
        return false;
    out = (mega * 1'000'000 + sec) * 1'000'000 + micro;
    return true;
}

// A tuple of `arity` elements whose first is the atom `tag`.
bool get_record(ErlNifEnv* env, ERL_NIF_TERM term, ERL_NIF_TERM tag, int arity,
                const ERL_NIF_TERM*& elems) {
    return get_tuple(env, term, arity, elems) && same(elems[0], tag);
}

MessageType type_from(std::string_view s) noexcept {
    if (s == "chat") return MessageType::chat;
    if (s == "groupchat") return MessageType::groupchat;
    if (s == "headline") return MessageType::headline;
    if (s == "error") return MessageType::error;
    return MessageType::normal;
}

MessageType type_from(ERL_NIF_TERM atom) noexcept {
    for (const MessageType t :
         {MessageType::chat, MessageType::groupchat, MessageType::headline, MessageType::error})
        if (same(atom, type_atom(t))) return t;
    return MessageType::normal;
}

bool get_attr(ErlNifEnv* env, ERL_NIF_TERM attrs, std::string_view name, std::string_view& out) {
    ERL_NIF_TERM head;
    while (enif_get_list_cell(env, attrs, &head, &attrs)) {
        const ERL_NIF_TERM* kv;
        std::string_view key;
        if (get_tuple(env, head, 2, kv) && get_binary(env, kv[0], key) && key == name)
            return get_binary(env, kv[1], out);
    }
    return false;
}

// The body chooser, the same for <body/> and <subject/> elements and for an
// xmpp #message{}'s texts: the first without xml:lang (or with an empty
// one), else the first at all. Listings and previews both use it, so a
// preview is always a prefix of the listed body.
struct Choice {
    const ERL_NIF_TERM* chosen = nullptr;
    bool plain = false;

    void offer(const ERL_NIF_TERM* candidate, std::string_view lang) noexcept {
        if (plain) return;
        if (lang.empty()) {
            chosen = candidate;
            plain = true;
        } else if (!chosen) {
            chosen = candidate;
        }
    }
};

// 64-bit FNV-1a, for the second half of a record's key.
struct Fnv {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    void add(std::string_view s) noexcept {
        for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
        add_size(s.size());
    }
    void add_size(std::size_t n) noexcept {
        for (int i = 0; i < 8; ++i, n >>= 8) h = (h ^ (n & 0xff)) * 0x100000001b3ULL;
    }
};

constexpr std::size_t kKeyBodyBytes = 64;

}  // namespace

bool RecordDecoder::decode_id(ERL_NIF_TERM term, std::int64_t& id) const {
    const ERL_NIF_TERM* r;
    return get_record(env_, term, atoms().offline_msg, 7, r) && get_timestamp(env_, r[2], id);
}

bool RecordDecoder::decode(ERL_NIF_TERM term, OfflineRecord& out) {
    const ERL_NIF_TERM* r;
    const ERL_NIF_TERM* us;
    const ERL_NIF_TERM* jid;
    std::string_view luser, lserver;
    if (!get_record(env_, term, atoms().offline_msg, 7, r) || !get_tuple(env_, r[1], 2, us) ||
        !get_binary(env_, us[0], out.user) || !get_binary(env_, us[1], out.server) ||
        !get_timestamp(env_, r[2], out.id) || !get_record(env_, r[4], atoms().jid, 7, jid) ||
        !get_binary(env_, jid[4], luser) || !get_binary(env_, jid[5], lserver) ||
        !read_packet(r[6], out))
        return false;
    // #jid{} -> "luser@lserver", or "lserver" for a server's own JID.
    out.from_offset = arena_.size();
    if (!luser.empty()) arena_.append(luser).push_back('@');
    arena_.append(lserver);
    out.from_size = arena_.size() - out.from_offset;
    // The SQL backend's records carry the row's seq as their expiry (see
    // spool_row.hpp); mnesia's never have such an expiry.
    const ERL_NIF_TERM* expire;
    ErlNifSInt64 seq;
    if (get_tuple(env_, r[3], 2, expire) && same(expire[0], atoms().seq) &&
        enif_get_int64(env_, expire[1], &seq) && seq >= 0)
        out.key = spool_key(seq);
    else
        out.key = record_key(term, out);
    return true;
}

bool RecordDecoder::read_packet(ERL_NIF_TERM packet, OfflineRecord& out) {
    const ERL_NIF_TERM* p;
    int arity = 0;
    if (!enif_get_tuple(env_, packet, &arity, &p)) return false;
    if (arity == 4 && same(p[0], atoms().xmlel)) return read_xmlel(p, out);
    // #message{id, type, lang, from, to, subject, body, thread, sub_els, meta}
    if (arity == 11 && same(p[0], atoms().message)) return read_message(p, out);
    return false;
}

bool RecordDecoder::read_xmlel(const ERL_NIF_TERM* el, OfflineRecord& out) {
    std::string_view type;
    out.type = get_attr(env_, el[2], "type", type) ? type_from(type) : MessageType::normal;
    Choice subject, body;
    ERL_NIF_TERM children = el[3], head;
    while (enif_get_list_cell(env_, children, &head, &children) && !(subject.plain && body.plain)) {
        const ERL_NIF_TERM* child;
        std::string_view name, lang;
        if (!get_record(env_, head, atoms().xmlel, 4, child) || !get_binary(env_, child[1], name))
            continue;
        if (name == "body") {
            if (!body.plain)
                body.offer(child, get_attr(env_, child[2], "xml:lang", lang) ? lang : "");
        } else if (name == "subject") {
            if (!subject.plain)
                subject.offer(child, get_attr(env_, child[2], "xml:lang", lang) ? lang : "");
        }
    }
    out.subject = subject.chosen ? cdata_of(subject.chosen[3]) : Text{};
    out.body = body.chosen ? cdata_of(body.chosen[3]) : Text{};
    return true;
}

bool RecordDecoder::read_message(const ERL_NIF_TERM* msg, OfflineRecord& out) {
    out.type = enif_is_atom(env_, msg[2]) ? type_from(msg[2]) : MessageType::normal;
    // [#text{lang, data}]
    const auto pick = [this](ERL_NIF_TERM texts) {
        Choice choice;
        ERL_NIF_TERM head;
        while (!choice.plain && enif_get_list_cell(env_, texts, &head, &texts)) {
            const ERL_NIF_TERM* t;
            std::string_view lang, data;
            if (get_record(env_, head, atoms().text, 3, t) && get_binary(env_, t[2], data))
                choice.offer(t, get_binary(env_, t[1], lang) ? lang : "");
        }
        Text text;
        if (choice.chosen) {
            get_binary(env_, choice.chosen[2], text.view);
            text.binary = choice.chosen[2];
        }
        return text;
    };
    out.subject = pick(msg[6]);
    out.body = pick(msg[7]);
    return true;
}

// Concatenated character data of an element's children: in place when there
// is one piece, as there nearly always is.
Text RecordDecoder::cdata_of(ERL_NIF_TERM children) {
    Text text;
    bool found = false;
    ERL_NIF_TERM head;
    while (enif_get_list_cell(env_, children, &head, &children)) {
        const ERL_NIF_TERM* c;
        std::string_view data;
        if (!get_record(env_, head, atoms().xmlcdata, 2, c) || !get_binary(env_, c[1], data))
            continue;
        if (!found) {
            text.view = data;
            text.binary = c[1];
            found = true;
            continue;
        }
        if (text.in_place) {
            text.in_place = false;
            text.offset = arena_.size();
            arena_.append(text.view);
        }
        arena_.append(data);
        text.size = arena_.size() - text.offset;
    }
    return text;
}

// Records are members of a bag: identical ones are one message, and two
// records stored for a user in the same microsecond must get different keys.
// The high half hashes the whole record; the low half the sender, type,
// subject and body, so two records that differ in what a reader sees never
// share a key. Keys never leave this VM (internal hashes are per VM).
std::uint64_t RecordDecoder::record_key(ERL_NIF_TERM term, const OfflineRecord& r) const {
    const std::uint64_t hi = enif_hash(ERL_NIF_INTERNAL_HASH, term, 0x9e3779b9);
    Fnv lo;
    lo.add(from(r));
    lo.add_size(static_cast<std::size_t>(r.type));
    lo.add(text(r.subject));
    const std::string_view body = text(r.body);
    lo.add(body.substr(0, kKeyBodyBytes));
    lo.add_size(body.size());
    return (hi << 32) ^ (lo.h & 0xffffffffULL) ^ (lo.h >> 32);
}

std::string_view RecordDecoder::text(const Text& t) const noexcept {
    return t.in_place ? t.view : std::string_view(arena_).substr(t.offset, t.size);
}

std::string_view RecordDecoder::from(const OfflineRecord& r) const noexcept {
    return std::string_view(arena_).substr(r.from_offset, r.from_size);
}

MessageView RecordDecoder::view(const OfflineRecord& r, std::size_t preview_chars) const noexcept {
    return {r.id,   r.key,           from(r),
            r.type, text(r.subject), utf8_prefix(text(r.body), preview_chars)};
}

ERL_NIF_TERM RecordDecoder::body_term(const OfflineRecord& r) const {
    if (r.body.in_place && !r.body.view.empty()) return r.body.binary;
    return make_binary(env_, text(r.body));
}

}  // namespace unread::nif
