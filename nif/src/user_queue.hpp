// The unread messages of one user, ordered by id, with per-sender counts.
// Not thread-safe: its Shard's lock guards it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "unread/message.hpp"

namespace unread {

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        return std::hash<std::string_view>{}(s);
    }
};

class UserQueue {
  public:
    UserQueue() = default;
    UserQueue(UserQueue&&) noexcept = default;
    UserQueue& operator=(UserQueue&&) noexcept = default;

    // Both return false when nothing changed.
    bool insert(const MessageView& message);
    // Room for `more` messages beyond the current ones, in one allocation.
    void reserve_more(std::size_t more);
    bool erase(std::int64_t id, std::uint64_t key);

    std::size_t size() const noexcept { return messages_.size(); }
    bool empty() const noexcept { return messages_.empty(); }
    // Heap bytes held by this queue's messages, senders and strings.
    std::size_t bytes() const noexcept;

    UserSummary summary() const;
    std::vector<SenderCount> senders() const;
    void page(std::size_t offset, std::size_t limit, std::string_view from,
              std::vector<MessageHeader>& out) const;
    // Calls f(id, key) for every message, oldest first.
    void for_each_key(const std::function<void(std::int64_t, std::uint64_t)>& f) const;
    bool contains(std::int64_t id, std::uint64_t key) const;
    // The sender's bare JID of a message, or null; valid until it is erased.
    const std::string* sender_of(std::int64_t id, std::uint64_t key) const;
    // Calls f(sender, count) for every sender of the queue.
    void for_each_sender(const std::function<void(const std::string&, std::size_t)>& f) const;
    // Messages with an id below `cutoff` (ids are sorted: a binary search).
    std::size_t count_before(std::int64_t cutoff) const;
    // Calls f(sender) for each of the first `n` messages, oldest first.
    void for_each_oldest(std::size_t n, const std::function<void(const std::string&)>& f) const;
    // Messages (by id and key) only in this queue and only in `other`: one
    // merge of the two sorted queues.
    std::pair<std::size_t, std::size_t> differences(const UserQueue& other) const;

  private:
    struct Sender {
        std::string jid;
        std::size_t count;
    };
    struct Stored {
        std::int64_t id;
        std::uint64_t key;
        // Senders live in their own allocations, so this stays valid while
        // senders_ grows; a sender is dropped only when no message has it.
        Sender* sender;
        // Subject then preview, in one allocation: most messages have no
        // subject, and one allocation per message keeps the index small.
        std::unique_ptr<char[]> text;
        std::uint16_t subject_len;
        std::uint16_t preview_len;
        MessageType type;
    };

    // Messages sorted by (id, key). A vector, not a tree: no per-node
    // overhead, and the store nearly always appends (ids are timestamps) or
    // drops the oldest or all.
    std::vector<Stored>::iterator find(std::int64_t id, std::uint64_t key);
    std::vector<Stored>::const_iterator find(std::int64_t id, std::uint64_t key) const;
    std::vector<Stored>::iterator lower_bound(std::int64_t id, std::uint64_t key);
    Sender& sender_for(std::string_view jid);
    void drop_sender(Sender* sender);
    static MessageHeader header_of(const Stored& s);

    std::vector<Stored> messages_;
    std::vector<std::unique_ptr<Sender>> senders_;
    std::size_t heap_ = 0;  // text and sender allocations
};

}  // namespace unread
