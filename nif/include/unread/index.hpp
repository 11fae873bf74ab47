// The unread index of one virtual host: per user, the headers of all stored
// unread messages, kept so that counts are O(1), pages are newest-first and
// the users with most unread are found without a scan.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "unread/message.hpp"

namespace unread {

class Shard;

// Whose messages a sender query matches: one bare JID ("bob@example.com",
// or "example.com" for a server's own JID), or every sender of a domain.
enum class SenderScope { jid, domain };

// Thread-safe: any number of threads may call any member at once. Users are
// spread over shards, each with its own reader/writer lock, so callers only
// contend when they touch users of the same shard.
class Index {
  public:
    static constexpr std::size_t kDefaultShards = 64;

    explicit Index(std::size_t shard_count = kDefaultShards);
    ~Index();
    Index(const Index&) = delete;
    Index& operator=(const Index&) = delete;

    // Adds a message; false if a message with the same (id, key) is already
    // indexed for the user (writing an identical record to a bag is a no-op).
    bool insert(std::string_view user, const MessageHeader& message);
    bool insert(std::string_view user, const MessageView& message);
    // Adds messages of one user under one lock, with one update of the
    // ranking: a rebuild reads the store grouped by user. Returns how many
    // were new.
    std::size_t insert_all(std::string_view user, std::span<const MessageView> messages);
    // Removes one message; false if it was not indexed.
    bool erase(std::string_view user, std::int64_t id, std::uint64_t key);
    // Removes all messages of a user; returns how many there were.
    std::size_t erase_user(std::string_view user);
    void clear();
    // Makes the user's messages exactly `messages` (a re-read of the store),
    // keeping entries that did not change. Returns what differed.
    UserDiff replace_user(std::string_view user, std::vector<MessageHeader> messages);

    std::size_t count(std::string_view user) const;
    std::optional<UserSummary> summary(std::string_view user) const;
    // Per-sender counts, largest first (ties by sender name).
    std::vector<SenderCount> senders(std::string_view user) const;
    // Newest first; skips `offset` messages. An empty `from` means any sender.
    std::vector<MessageHeader> page(std::string_view user, std::size_t offset, std::size_t limit,
                                    std::string_view from = {}) const;
    // Users with the most unread messages, largest first (ties by name).
    std::vector<UserCount> top(std::size_t limit) const;

    // One pass over every user: counts, the oldest message, the histogram
    // of queue lengths for `bounds` (strictly ascending, else
    // std::invalid_argument) and the users with at least `threshold`
    // messages (none when threshold is 0). O(users), so callers run it off
    // the VM's normal schedulers.
    Health health(std::span<const std::size_t> bounds, std::size_t threshold) const;

    // The sender view. What removing the sender's (or domain's) messages
    // would touch, with the `limit` users holding most of them: work in
    // proportion to the users it reaches, not to the index.
    SenderImpact sender_impact(std::string_view name, SenderScope scope, std::size_t limit) const;
    // Every user holding messages of the sender (or domain), by name.
    std::vector<UserCount> sender_users(std::string_view name, SenderScope scope) const;
    // The whole view, sorted by sender then user (tests compare it with a
    // recomputation from the queues).
    std::vector<SenderUserCount> sender_view() const;

    // Messages with an id below `cutoff`, and the `limit` senders with most
    // of them: one binary search per user, then a walk of the old messages.
    RetentionImpact older_than(std::int64_t cutoff, std::size_t limit) const;
    // Users with messages older than `cutoff`, with how many, by name.
    std::vector<UserCount> users_older_than(std::int64_t cutoff) const;

    std::uint64_t total() const noexcept;
    std::uint64_t users() const noexcept;
    // Bytes held by the index, counted as allocated (nodes and strings).
    std::size_t memory_bytes() const noexcept;

    // Users whose set of (id, key) differs between `before` and `after`.
    // Both indexes must have the same shard count.
    static std::vector<UserDiff> diff(const Index& before, const Index& after);

  private:
    Shard& shard_for(std::string_view user) const noexcept;
    // Calls f(shard, senders_matched, users) per shard holding a match, under
    // the shard's shared lock; `users` pairs user keys with message counts.
    template <class F>
    void for_each_match(std::string_view name, SenderScope scope, F&& f) const;

    std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace unread
