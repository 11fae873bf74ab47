// The unread messages of one user, ordered by id, with per-sender counts.
// Its per-sender entries are links of its shard's SenderView, so every
// change of them goes through that view. Not thread-safe: its Shard's lock
// guards it.
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

#include "sender_view.hpp"
#include "unread/message.hpp"

namespace unread {

class UserQueue {
  public:
    UserQueue() = default;
    UserQueue(UserQueue&&) noexcept = default;
    UserQueue& operator=(UserQueue&&) noexcept = default;

    // Both return false when nothing changed. `user` is this queue's key in
    // its shard, which the view's links point at.
    bool insert(const MessageView& message, SenderView& view, const std::string& user);
    // Room for `more` messages beyond the current ones, in one allocation.
    void reserve_more(std::size_t more);
    bool erase(std::int64_t id, std::uint64_t key, SenderView& view);
    // Takes every per-sender entry off the view, before the queue is dropped
    // with its messages.
    void release(SenderView& view) noexcept;

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
    // Messages with an id below `cutoff` (ids are sorted: a binary search).
    std::size_t count_before(std::int64_t cutoff) const;
    // Calls f(sender) for each of the first `n` messages, oldest first.
    void for_each_oldest(std::size_t n, const std::function<void(const std::string&)>& f) const;
    // Messages (by id and key) only in this queue and only in `other`: one
    // merge of the two sorted queues.
    std::pair<std::size_t, std::size_t> differences(const UserQueue& other) const;

  private:
    struct Stored {
        std::int64_t id;
        std::uint64_t key;
        // Links live in their own allocations, so this stays valid while
        // senders_ grows; a link is dropped only when no message has it.
        SenderLink* sender;
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
    SenderLink& sender_for(std::string_view jid, SenderView& view, const std::string& user);
    void drop_sender(SenderLink* sender, SenderView& view);
    static MessageHeader header_of(const Stored& s);

    std::vector<Stored> messages_;
    std::vector<std::unique_ptr<SenderLink>> senders_;
    std::size_t heap_ = 0;  // text and link allocations
};

}  // namespace unread
