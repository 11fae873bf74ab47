#include "sender_view.hpp"

#include "unread/text.hpp"

namespace unread {
namespace {

// A node is the element, the next pointer and the cached hash of its key.
template <class Map>
constexpr std::size_t node_bytes() noexcept {
    return heap_bytes(sizeof(typename Map::value_type) + 2 * sizeof(void*));
}

template <class Map>
std::size_t buckets_bytes(const Map& m) noexcept {
    // A map with one bucket uses the storage inside the map object itself.
    return m.bucket_count() > 1 ? heap_bytes(m.bucket_count() * sizeof(void*)) : 0;
}

// The domain part of a sender's bare JID ("lserver" for a server's JID).
std::string_view domain_of(std::string_view sender) noexcept {
    const auto at = sender.find('@');
    return at == std::string_view::npos ? sender : sender.substr(at + 1);
}

// The two intrusive lists of the view (a sender's links, a domain's
// senders), named by the node's prev and next members.
template <class Node>
void push_front(Node*& head, Node& node, Node* Node::*prev, Node* Node::*next) noexcept {
    node.*prev = nullptr;
    node.*next = head;
    if (head != nullptr) head->*prev = &node;
    head = &node;
}

template <class Node>
void unlink(Node*& head, Node& node, Node* Node::*prev, Node* Node::*next) noexcept {
    if (node.*prev != nullptr) {
        node.*prev->*next = node.*next;
    } else {
        head = node.*next;
    }
    if (node.*next != nullptr) node.*next->*prev = node.*prev;
    node.*prev = node.*next = nullptr;
}

}  // namespace

SenderEntry& SenderView::sender_for(std::string_view jid) {
    const auto found = senders_.find(jid);
    if (found != senders_.end()) return found->second;
    // The domain first: if the sender's node cannot be made, a domain made
    // for it is taken back and the view is as it was.
    auto [d, fresh] = domains_.try_emplace(std::string(domain_of(jid)));
    DomainEntry& domain = d->second;
    if (fresh) {
        domain.name = &d->first;
        node_bytes_ += node_bytes<Domains>() + string_heap_bytes(d->first);
    }
    Senders::iterator s;
    try {
        s = senders_.try_emplace(std::string(jid)).first;
    } catch (...) {
        if (fresh) {
            node_bytes_ -= node_bytes<Domains>() + string_heap_bytes(d->first);
            domains_.erase(d);
        }
        throw;
    }
    auto& [key, sender] = *s;
    sender.jid = &key;
    node_bytes_ += node_bytes<Senders>() + string_heap_bytes(key);
    sender.domain = &domain;
    push_front(domain.head, sender, &SenderEntry::prev_in_domain, &SenderEntry::next_in_domain);
    ++domain.senders;
    return sender;
}

void SenderView::attach(SenderLink& link, std::string_view jid, const std::string& user) {
    SenderEntry& sender = sender_for(jid);
    link.sender = &sender;
    link.user = &user;
    link.count = 0;
    push_front(sender.head, link, &SenderLink::prev, &SenderLink::next);
    ++sender.users;
}

void SenderView::detach(SenderLink& link) {
    SenderEntry& sender = *link.sender;
    unlink(sender.head, link, &SenderLink::prev, &SenderLink::next);
    if (--sender.users == 0) drop(sender);
}

void SenderView::drop(SenderEntry& sender) {
    DomainEntry& domain = *sender.domain;
    unlink(domain.head, sender, &SenderEntry::prev_in_domain, &SenderEntry::next_in_domain);
    if (--domain.senders == 0) {
        node_bytes_ -= node_bytes<Domains>() + string_heap_bytes(*domain.name);
        // Found first: erasing by key would hand erase the key it frees.
        domains_.erase(domains_.find(*domain.name));
    }
    node_bytes_ -= node_bytes<Senders>() + string_heap_bytes(*sender.jid);
    senders_.erase(senders_.find(*sender.jid));
}

const SenderEntry* SenderView::find(std::string_view jid) const {
    const auto it = senders_.find(jid);
    return it == senders_.end() ? nullptr : &it->second;
}

const DomainEntry* SenderView::find_domain(std::string_view domain) const {
    const auto it = domains_.find(domain);
    return it == domains_.end() ? nullptr : &it->second;
}

void SenderView::clear() noexcept {
    senders_.clear();
    domains_.clear();
    node_bytes_ = 0;
}

std::size_t SenderView::bytes() const noexcept {
    return node_bytes_ + buckets_bytes(senders_) + buckets_bytes(domains_);
}

}  // namespace unread
