// The sender view of one shard: for each sender, the users holding its
// messages, and for each domain, its senders. Not thread-safe: its Shard's
// lock guards it.
//
// A (sender, user) pair is the user queue's own per-sender entry, a
// SenderLink, threaded onto an intrusive list of its sender: a message from
// a sender the queue already has costs the view nothing (the link's count
// is the pair's), and a new pair costs one lookup of the sender. The queue's
// entries name their sender through the view, so a sender's JID is stored
// once per shard, not once per queue.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "string_hash.hpp"

namespace unread {

struct SenderEntry;
struct DomainEntry;

// One sender's messages in one user's queue.
struct SenderLink {
    SenderEntry* sender;
    const std::string* user;  // the user's key in its Shard (stable while linked)
    std::size_t count = 0;
    SenderLink* prev = nullptr;
    SenderLink* next = nullptr;
};

struct SenderEntry {
    const std::string* jid = nullptr;  // the key of this entry in SenderView
    std::size_t users = 0;
    SenderLink* head = nullptr;
    DomainEntry* domain = nullptr;
    SenderEntry* prev_in_domain = nullptr;
    SenderEntry* next_in_domain = nullptr;
};

struct DomainEntry {
    const std::string* name = nullptr;
    std::size_t senders = 0;
    SenderEntry* head = nullptr;
};

class SenderView {
  public:
    using Senders = std::unordered_map<std::string, SenderEntry, StringHash, std::equal_to<>>;
    using Domains = std::unordered_map<std::string, DomainEntry, StringHash, std::equal_to<>>;

    SenderView() = default;
    SenderView(const SenderView&) = delete;
    SenderView& operator=(const SenderView&) = delete;

    // Puts a new, empty link (count 0) of `jid` for `user` at the head of
    // its sender's list, creating the sender (and its domain) if needed.
    void attach(SenderLink& link, std::string_view jid, const std::string& user);
    // Takes a link off its sender's list, dropping the sender (and its
    // domain) once no user holds its messages.
    void detach(SenderLink& link);

    const SenderEntry* find(std::string_view jid) const;
    const DomainEntry* find_domain(std::string_view domain) const;
    const Senders& senders() const noexcept { return senders_; }

    // Drops every sender and domain; the caller drops every queue with it.
    void clear() noexcept;
    // Bytes of the senders' and domains' nodes, names and bucket arrays
    // (links are counted by the queues that hold them).
    std::size_t bytes() const noexcept;

  private:
    SenderEntry& sender_for(std::string_view jid);
    void drop(SenderEntry& sender);

    Senders senders_;
    Domains domains_;
    std::size_t node_bytes_ = 0;  // nodes and names; buckets are counted on demand
};

}  // namespace unread
