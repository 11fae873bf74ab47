// Plain C++ types of the unread index. Nothing here knows about Erlang, so the
// core can be unit tested and reused for other stores (SQL, MAM) later.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace unread {

enum class MessageType : std::uint8_t { normal = 0, chat, groupchat, headline, error };

const char* to_string(MessageType type) noexcept;

// The header of one stored (unread) message.
struct MessageHeader {
    // mod_offline's message id: the storage timestamp in microseconds.
    std::int64_t id = 0;
    // Tells apart stored records that share an id: the store is a bag, so two
    // records are the same message only if every field matches. The caller
    // passes a hash of the whole stored record.
    std::uint64_t key = 0;
    std::string from;  // sender's bare JID
    MessageType type = MessageType::normal;
    std::string subject;
    std::string preview;  // the body, cut to the configured preview length
};

// The same header with its text still owned by the caller: the index copies
// only what it keeps (a rebuild reads a million records in a row).
struct MessageView {
    std::int64_t id = 0;
    std::uint64_t key = 0;
    std::string_view from;
    MessageType type = MessageType::normal;
    std::string_view subject;
    std::string_view preview;
};

inline MessageView view_of(const MessageHeader& h) noexcept {
    return {h.id, h.key, h.from, h.type, h.subject, h.preview};
}

struct UserSummary {
    std::size_t count = 0;
    std::int64_t oldest = 0;  // id of the oldest message
    std::int64_t newest = 0;  // id of the newest message
};

struct SenderCount {
    std::string sender;
    std::size_t count = 0;
};

struct UserCount {
    std::string user;
    std::size_t count = 0;
};

// A host's backlog at a glance (see Index::health).
struct Health {
    std::uint64_t users = 0;     // users with unread messages
    std::uint64_t messages = 0;  // unread messages
    // The oldest message (smallest id; ties by user name); no user when the
    // index is empty.
    std::int64_t oldest_id = 0;
    std::string oldest_user;
    // buckets[i]: users whose count is <= bounds[i] (cumulative, as
    // Prometheus' `le` buckets are); users above the last bound are the
    // rest of `users`.
    std::vector<std::uint64_t> buckets;
    // Users with at least the asked threshold of messages, largest first
    // (ties by name).
    std::vector<UserCount> at_least;
};

// Whom a sender's messages reach: a dry run of removing them all.
struct SenderImpact {
    std::size_t messages = 0;
    std::size_t users = 0;
    std::size_t senders = 0;     // distinct sender JIDs matched (1 for a JID)
    std::vector<UserCount> top;  // users holding most of them, largest first
};

// What removing every message older than a cutoff would remove.
struct RetentionImpact {
    std::size_t messages = 0;
    std::size_t users = 0;
    std::vector<SenderCount> top_senders;  // largest first (ties by name)
};

// One entry of the sender view: `count` of `user`'s messages are from `sender`.
struct SenderUserCount {
    std::string sender;
    std::string user;
    std::size_t count = 0;
    friend bool operator==(const SenderUserCount&, const SenderUserCount&) = default;
};

// A user whose messages differ between two indexes (see Index::diff).
struct UserDiff {
    std::string user;
    std::size_t count_before = 0;
    std::size_t count_after = 0;
    std::size_t added = 0;    // in `after`, not in `before`
    std::size_t removed = 0;  // in `before`, not in `after`
};

}  // namespace unread
