// mod_offline SQL spool rows, {Seq, LUser, XML, CreatedAt} as ejabberd_sql
// returns them, read with the scanner (spool_xml.hpp) into what the index
// keeps, or into the #offline_msg{} the SQL backend hands around.
#pragma once

#include <erl_nif.h>

#include <cstdint>
#include <string_view>

#include "spool_xml.hpp"
#include "unread/message.hpp"

namespace unread::nif {

struct SpoolRow {
    std::int64_t seq = 0;
    std::string_view user;
    std::string_view xml;
    std::string_view created_at;
};

// False for a term of another shape (the caller declines it).
bool get_spool_row(ErlNifEnv* env, ERL_NIF_TERM term, SpoolRow& out);

// An SQL row's key in the index is its seq: the same on every path (spool,
// change log, a user's re-read) and unique, as spool keeps rows with
// identical XML apart by seq.
inline std::uint64_t spool_key(std::int64_t seq) noexcept {
    return static_cast<std::uint64_t>(seq);
}

// #offline_msg{us = {LUser, Host}, timestamp, expire = {seq, Seq},
// from = #jid{} (bare), to = #jid{} (the recipient), packet}, the packet a
// small #message{} holding only the type and the chosen subject and body:
// what RecordDecoder reads back into the same header the scanner gave.
ERL_NIF_TERM make_spool_record(ErlNifEnv* env, ERL_NIF_TERM host, const SpoolRow& row,
                               const spool::ScannedRow& scanned, const spool::Scanner& scanner);

}  // namespace unread::nif
