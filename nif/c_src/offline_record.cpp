#include "offline_record.hpp"

#include <string>

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

// #jid{user, server, resource, luser, lserver, lresource} -> "luser@lserver".
bool get_bare_jid(ErlNifEnv* env, ERL_NIF_TERM term, std::string& out) {
    const ERL_NIF_TERM* j;
    std::string_view luser, lserver;
    if (!get_tuple(env, term, 7, j) || !is_atom(env, j[0], "jid") ||
        !get_binary(env, j[4], luser) || !get_binary(env, j[5], lserver))
        return false;
    out.reserve(luser.size() + 1 + lserver.size());
    if (!luser.empty()) out.append(luser).push_back('@');
    out.append(lserver);
    return true;
}

MessageType type_from(std::string_view s) {
    if (s == "chat") return MessageType::chat;
    if (s == "groupchat") return MessageType::groupchat;
    if (s == "headline") return MessageType::headline;
    if (s == "error") return MessageType::error;
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

// Concatenated character data of an element's children.
std::string cdata_of(ErlNifEnv* env, ERL_NIF_TERM children) {
    std::string text;
    ERL_NIF_TERM head;
    while (enif_get_list_cell(env, children, &head, &children)) {
        const ERL_NIF_TERM* c;
        std::string_view data;
        if (get_tuple(env, head, 2, c) && is_atom(env, c[0], "xmlcdata") &&
            get_binary(env, c[1], data))
            text.append(data);
    }
    return text;
}

// The text of the first child named `name` without xml:lang, else of the
// first child named `name` at all.
std::string child_text(ErlNifEnv* env, ERL_NIF_TERM children, std::string_view name) {
    ERL_NIF_TERM head;
    const ERL_NIF_TERM* first = nullptr;
    while (enif_get_list_cell(env, children, &head, &children)) {
        const ERL_NIF_TERM* el;
        std::string_view el_name, lang;
        if (!get_tuple(env, head, 4, el) || !is_atom(env, el[0], "xmlel") ||
            !get_binary(env, el[1], el_name) || el_name != name)
            continue;
        if (!get_attr(env, el[2], "xml:lang", lang) || lang.empty()) return cdata_of(env, el[3]);
        if (!first) first = el;
    }
    return first ? cdata_of(env, first[3]) : std::string();
}

// Same choice among an xmpp #message{}'s [#text{lang, data}].
std::string text_of(ErlNifEnv* env, ERL_NIF_TERM texts) {
    ERL_NIF_TERM head;
    std::string_view first;
    bool have_first = false;
    while (enif_get_list_cell(env, texts, &head, &texts)) {
        const ERL_NIF_TERM* t;
        std::string_view lang, data;
        if (!get_tuple(env, head, 3, t) || !is_atom(env, t[0], "text") ||
            !get_binary(env, t[2], data))
            continue;
        if (!get_binary(env, t[1], lang) || lang.empty()) return std::string(data);
        if (!have_first) {
            first = data;
            have_first = true;
        }
    }
    return std::string(first);
}

bool read_packet(ErlNifEnv* env, ERL_NIF_TERM packet, MessageHeader& h, std::string& body) {
    const ERL_NIF_TERM* p;
    int arity = 0;
    if (!enif_get_tuple(env, packet, &arity, &p)) return false;
    if (arity == 4 && is_atom(env, p[0], "xmlel")) {
        std::string_view type;
        h.type = get_attr(env, p[2], "type", type) ? type_from(type) : MessageType::normal;
        h.subject = child_text(env, p[3], "subject");
        body = child_text(env, p[3], "body");
        return true;
    }
    // #message{id, type, lang, from, to, subject, body, thread, sub_els, meta}
    if (arity == 11 && is_atom(env, p[0], "message")) {
        char type[16];
        h.type = enif_get_atom(env, p[2], type, sizeof type, ERL_NIF_LATIN1) > 0
                     ? type_from(type)
                     : MessageType::normal;
        h.subject = text_of(env, p[6]);
        body = text_of(env, p[7]);
        return true;
    }
    return false;
}

// Records are members of a bag: identical ones are one message. A hash of
// the whole record tells apart different records stored in the same
// microsecond; two 32-bit hashes with different salts make 64 bits.
std::uint64_t record_key(ERL_NIF_TERM term) {
    const std::uint64_t hi = enif_hash(ERL_NIF_INTERNAL_HASH, term, 0x9e3779b9);
    const std::uint64_t lo = enif_hash(ERL_NIF_INTERNAL_HASH, term, 0x7f4a7c15);
    return (hi << 32) ^ lo;
}

}  // namespace

bool decode_record_key(ErlNifEnv* env, ERL_NIF_TERM term, OfflineRecord& out) {
    const ERL_NIF_TERM* r;
    const ERL_NIF_TERM* us;
    if (!get_tuple(env, term, 7, r) || !is_atom(env, r[0], "offline_msg") ||
        !get_tuple(env, r[1], 2, us) || !get_binary(env, us[0], out.user) ||
        !get_binary(env, us[1], out.server) || !get_timestamp(env, r[2], out.header.id))
        return false;
    out.header.key = record_key(term);
    return true;
}

bool decode_offline_record(ErlNifEnv* env, ERL_NIF_TERM term, std::size_t preview_chars,
                           OfflineRecord& out) {
    if (!decode_record_key(env, term, out)) return false;
    const ERL_NIF_TERM* r;
    get_tuple(env, term, 7, r);
    std::string body;
    if (!get_bare_jid(env, r[4], out.header.from) || !read_packet(env, r[6], out.header, body))
        return false;
    out.header.preview = std::string(utf8_prefix(body, preview_chars));
    return true;
}

}  // namespace unread::nif
