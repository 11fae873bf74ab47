// Reads what the index needs straight from a mod_offline SQL spool row's XML
// (the <message/> mod_offline_sql stored, as fxml serialises it), without
// building an Erlang term for it: the sender's bare JID, the type, the
// subject and body as the body chooser picks them, and the message's date.
//
// The reference is mod_unread_sql:record/5 (fxml_stream:parse_element, then
// jid:decode and the decoder in offline_record.cpp). The scanner accepts only
// a subset of XML it reads exactly as that path does (what fxml writes, and
// more); anything else — a construct it does not handle, a JID needing
// stringprep beyond ASCII, a date in another form, and malformed input — is
// declined, and the caller hands that row to the reference path, which
// decides. So the scanner never has to be right about what is malformed, only
// about what it accepts. Plain C++, no Erlang types, unit tested on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "unread/message.hpp"

namespace unread::spool {

// Where a decoded string is in the scanner's arena.
struct Span {
    std::size_t offset = 0;
    std::size_t size = 0;
};

struct ScannedRow {
    // The storage timestamp in microseconds, as mod_unread_sql:timestamp/4
    // dates the row.
    std::int64_t id = 0;
    Span from;  // the sender's bare JID, lower-cased as jid:decode/1 does
    MessageType type = MessageType::normal;
    Span subject;
    Span body;
};

// What a row's date falls back to, as the SQL backend passes them.
struct RowContext {
    std::string_view host;        // the server's own <delay from=.../>
    std::string_view created_at;  // "YYYY-MM-DD HH:MM:SS[.ffffff]", UTC
    std::int64_t seq = 0;
};

class Scanner {
  public:
    struct Work;
    Scanner();
    ~Scanner();
    Scanner(const Scanner&) = delete;
    Scanner& operator=(const Scanner&) = delete;

    // True and `out` filled when the row is read; false when it is declined
    // (the arena is then as before the call). Decoded strings go to one
    // arena, so a page of rows costs a few allocations, not several per row.
    bool scan(std::string_view xml, const RowContext& row, ScannedRow& out);

    std::string_view text(const Span& s) const noexcept {
        return std::string_view(arena_).substr(s.offset, s.size);
    }
    // Forgets every row scanned so far (their spans are then invalid).
    void clear() noexcept { arena_.clear(); }

  private:
    std::string arena_;
    std::unique_ptr<Work> work_;
};

// The pieces, exposed for the unit tests.

// "YYYY-MM-DDTHH:MM:SS[.fff…]Z" as xmpp_util:decode_timestamp/1 reads it, in
// microseconds since the epoch; false for any other form (the reference may
// still read it: callers decline).
bool parse_xmpp_stamp(std::string_view s, std::int64_t& micros) noexcept;
// created_at as mod_unread_sql reads it; false for forms it would not read
// the same way.
bool parse_created_at(std::string_view s, std::int64_t& micros) noexcept;
// The bare JID jid:decode/1 + jid:remove_resource/1 would give, appended to
// `out` lower-cased; false (out unchanged) for JIDs outside the plain-ASCII
// subset the scanner checks itself.
bool bare_jid(std::string_view jid, std::string& out);

}  // namespace unread::spool
