// Reads mod_offline's #offline_msg{} records, as mnesia stores them, into the
// index's plain C++ types.
#pragma once

#include <erl_nif.h>

#include <cstddef>
#include <string_view>

#include "unread/message.hpp"

namespace unread::nif {

struct OfflineRecord {
    std::string_view user;    // the recipient's node part (luser)
    std::string_view server;  // the recipient's domain (lserver)
    MessageHeader header;
};

// #offline_msg{us = {LUser, LServer}, timestamp = {Mega, Sec, Micro}, expire,
// from = #jid{}, to, packet} with the packet an #xmlel{} (how mod_offline
// stores it) or an xmpp #message{}. False if the term is not such a record.
bool decode_offline_record(ErlNifEnv* env, ERL_NIF_TERM term, std::size_t preview_chars,
                           OfflineRecord& out);

// The (recipient, id, key) of a record, without reading its packet: enough to
// delete it from the index.
bool decode_record_key(ErlNifEnv* env, ERL_NIF_TERM term, OfflineRecord& out);

}  // namespace unread::nif
