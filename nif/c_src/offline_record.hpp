// Reads mod_offline's #offline_msg{} records, as mnesia stores them, into the
// index's plain C++ types.
#pragma once

#include <erl_nif.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "unread/message.hpp"

namespace unread::nif {

// The text of an element. Nearly always its one character-data binary, read
// in place (`binary` is that term); text split over several character-data
// nodes is joined in the decoder's arena.
struct Text {
    std::string_view view;   // in place
    ERL_NIF_TERM binary{};   // in place: the binary holding `view`
    bool in_place = true;    // false: joined, at `offset` in the arena
    std::size_t offset = 0;  // joined
    std::size_t size = 0;    // joined
};

struct OfflineRecord {
    std::string_view user;    // the recipient's node part (luser)
    std::string_view server;  // the recipient's domain (lserver)
    // mod_offline's message id: the storage timestamp in microseconds.
    std::int64_t id = 0;
    // Tells apart records stored for one user in the same microsecond: for
    // the SQL backend's records the row's seq (spool_key), else a hash (see
    // record_key in offline_record.cpp).
    std::uint64_t key = 0;
    std::size_t from_offset = 0;  // the sender's bare JID, in the arena
    std::size_t from_size = 0;
    MessageType type = MessageType::normal;
    Text subject;
    Text body;  // the body chooser's pick (see offline_record.cpp)
};

// Decodes #offline_msg{us = {LUser, LServer}, timestamp = {Mega, Sec, Micro},
// expire, from = #jid{}, to, packet} with the packet an #xmlel{} (how
// mod_offline stores it) or an xmpp #message{}. Strings that must be built
// (the sender's bare JID, joined text) go to one arena per decoder, so a
// batch of records costs a few allocations, not several per record.
class RecordDecoder {
  public:
    explicit RecordDecoder(ErlNifEnv* env) : env_(env) {}

    // False if the term is not such a record.
    bool decode(ERL_NIF_TERM term, OfflineRecord& out);
    // Only the id, without reading the rest: lets callers skip records.
    bool decode_id(ERL_NIF_TERM term, std::int64_t& id) const;

    // Views into the arena stay valid until the next decode().
    std::string_view text(const Text& t) const noexcept;
    std::string_view from(const OfflineRecord& r) const noexcept;
    // The header the index keeps: the body cut to preview_chars characters.
    MessageView view(const OfflineRecord& r, std::size_t preview_chars) const noexcept;
    // The whole chosen body as a binary term (the stored one when in place).
    ERL_NIF_TERM body_term(const OfflineRecord& r) const;

  private:
    bool read_packet(ERL_NIF_TERM packet, OfflineRecord& out);
    bool read_xmlel(const ERL_NIF_TERM* el, OfflineRecord& out);
    bool read_message(const ERL_NIF_TERM* msg, OfflineRecord& out);
    Text cdata_of(ERL_NIF_TERM children);
    std::uint64_t record_key(ERL_NIF_TERM term, const OfflineRecord& r) const;

    ErlNifEnv* env_;
    std::string arena_;
};

}  // namespace unread::nif
