#include "user_queue.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "unread/text.hpp"

namespace unread {
namespace {

constexpr std::size_t kMaxText = std::numeric_limits<std::uint16_t>::max();

// Cuts to at most kMaxText bytes without splitting a UTF-8 sequence.
std::string_view cap(std::string_view s) noexcept {
    if (s.size() <= kMaxText) return s;
    std::size_t n = kMaxText;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

template <class S>
bool less(const S& s, std::int64_t id, std::uint64_t key) noexcept {
    return s.id < id || (s.id == id && s.key < key);
}

}  // namespace

std::size_t UserQueue::bytes() const noexcept {
    return heap_bytes(messages_.capacity() * sizeof(Stored)) +
           heap_bytes(senders_.capacity() * sizeof(void*)) + heap_;
}

std::vector<UserQueue::Stored>::iterator UserQueue::lower_bound(std::int64_t id,
                                                                std::uint64_t key) {
    // Appends are the common case: check the end before searching.
    if (messages_.empty() || less(messages_.back(), id, key)) return messages_.end();
    return std::lower_bound(messages_.begin(), messages_.end(), std::make_pair(id, key),
                            [](const Stored& s, const std::pair<std::int64_t, std::uint64_t>& k) {
                                return less(s, k.first, k.second);
                            });
}

std::vector<UserQueue::Stored>::iterator UserQueue::find(std::int64_t id, std::uint64_t key) {
    const auto it = lower_bound(id, key);
    return it != messages_.end() && it->id == id && it->key == key ? it : messages_.end();
}

std::vector<UserQueue::Stored>::const_iterator UserQueue::find(std::int64_t id,
                                                               std::uint64_t key) const {
    return const_cast<UserQueue*>(this)->find(id, key);
}

bool UserQueue::contains(std::int64_t id, std::uint64_t key) const {
    return find(id, key) != messages_.end();
}

SenderLink& UserQueue::sender_for(std::string_view jid, SenderView& view, const std::string& user) {
    // Most queues hold one or a few senders: a scan beats any lookup.
    for (const auto& s : senders_)
        if (*s->sender->jid == jid) return *s;
    // Room first, so nothing can fail once the link is on the view.
    senders_.reserve(senders_.size() + 1);
    auto link = std::make_unique<SenderLink>();
    view.attach(*link, jid, user);
    heap_ += heap_bytes(sizeof(SenderLink));
    return *senders_.emplace_back(std::move(link));
}

void UserQueue::drop_sender(SenderLink* sender, SenderView& view) {
    if (--sender->count > 0) return;
    view.detach(*sender);
    const auto it = std::find_if(senders_.begin(), senders_.end(),
                                 [&](const auto& s) { return s.get() == sender; });
    heap_ -= heap_bytes(sizeof(SenderLink));
    senders_.erase(it);
    if (senders_.empty()) senders_.shrink_to_fit();
}

void UserQueue::release(SenderView& view) noexcept {
    for (const auto& s : senders_) view.detach(*s);
}

bool UserQueue::insert(const MessageView& message, SenderView& view, const std::string& user) {
    const auto pos = lower_bound(message.id, message.key);
    if (pos != messages_.end() && pos->id == message.id && pos->key == message.key) return false;

    const std::string_view subject = cap(message.subject);
    const std::string_view preview = cap(message.preview);
    Stored stored{message.id,
                  message.key,
                  nullptr,
                  nullptr,
                  static_cast<std::uint16_t>(subject.size()),
                  static_cast<std::uint16_t>(preview.size()),
                  message.type};
    const std::size_t len = subject.size() + preview.size();
    if (len > 0) {
        // for_overwrite: every byte is written below. An empty view may have
        // no data at all, so it is never handed to memcpy.
        stored.text = std::make_unique_for_overwrite<char[]>(len);
        if (!subject.empty()) std::memcpy(stored.text.get(), subject.data(), subject.size());
        if (!preview.empty())
            std::memcpy(stored.text.get() + subject.size(), preview.data(), preview.size());
    }
    // Grow by half rather than double: the index holds many small queues.
    // Grown before the sender is counted, so a failed allocation changes
    // nothing.
    const auto at = pos - messages_.begin();
    if (messages_.size() == messages_.capacity())
        messages_.reserve(messages_.size() + messages_.size() / 2 + 1);
    SenderLink& sender = sender_for(message.from, view, user);
    ++sender.count;
    stored.sender = &sender;
    messages_.insert(messages_.begin() + at, std::move(stored));
    heap_ += heap_bytes(len);
    return true;
}

void UserQueue::reserve_more(std::size_t more) {
    if (messages_.capacity() - messages_.size() < more) messages_.reserve(messages_.size() + more);
}

bool UserQueue::erase(std::int64_t id, std::uint64_t key, SenderView& view) {
    const auto it = find(id, key);
    if (it == messages_.end()) return false;
    heap_ -= heap_bytes(std::size_t{it->subject_len} + it->preview_len);
    SenderLink* sender = it->sender;
    messages_.erase(it);
    drop_sender(sender, view);
    // Give memory back once most of it is unused.
    if (messages_.size() * 4 < messages_.capacity()) messages_.shrink_to_fit();
    return true;
}

UserSummary UserQueue::summary() const {
    if (messages_.empty()) return {};
    return {messages_.size(), messages_.front().id, messages_.back().id};
}

std::vector<SenderCount> UserQueue::senders() const {
    std::vector<SenderCount> out;
    out.reserve(senders_.size());
    for (const auto& s : senders_) out.push_back({*s->sender->jid, s->count});
    std::sort(out.begin(), out.end(), [](const SenderCount& a, const SenderCount& b) {
        return a.count > b.count || (a.count == b.count && a.sender < b.sender);
    });
    return out;
}

MessageHeader UserQueue::header_of(const Stored& s) {
    MessageHeader h;
    h.id = s.id;
    h.key = s.key;
    h.from = *s.sender->sender->jid;
    h.type = s.type;
    if (s.text) {
        h.subject.assign(s.text.get(), s.subject_len);
        h.preview.assign(s.text.get() + s.subject_len, s.preview_len);
    }
    return h;
}

void UserQueue::page(std::size_t offset, std::size_t limit, std::string_view from,
                     std::vector<MessageHeader>& out) const {
    if (from.empty()) {
        // Unfiltered pages jump straight to their first message.
        if (offset >= messages_.size()) return;
        const auto first = messages_.rbegin() + static_cast<std::ptrdiff_t>(offset);
        for (auto it = first; it != messages_.rend() && limit > 0; ++it, --limit)
            out.push_back(header_of(*it));
        return;
    }
    for (auto it = messages_.rbegin(); it != messages_.rend() && limit > 0; ++it) {
        if (*it->sender->sender->jid != from) continue;
        if (offset > 0) {
            --offset;
            continue;
        }
        out.push_back(header_of(*it));
        --limit;
    }
}

std::pair<std::size_t, std::size_t> UserQueue::differences(const UserQueue& other) const {
    std::size_t only_here = 0, only_there = 0;
    auto a = messages_.begin();
    auto b = other.messages_.begin();
    while (a != messages_.end() && b != other.messages_.end()) {
        if (less(*a, b->id, b->key)) {
            ++only_here;
            ++a;
        } else if (less(*b, a->id, a->key)) {
            ++only_there;
            ++b;
        } else {
            ++a;
            ++b;
        }
    }
    only_here += static_cast<std::size_t>(messages_.end() - a);
    only_there += static_cast<std::size_t>(other.messages_.end() - b);
    return {only_here, only_there};
}

void UserQueue::for_each_key(const std::function<void(std::int64_t, std::uint64_t)>& f) const {
    for (const Stored& s : messages_) f(s.id, s.key);
}

}  // namespace unread

namespace unread {

std::size_t UserQueue::count_before(std::int64_t cutoff) const {
    const auto it = std::lower_bound(messages_.begin(), messages_.end(), cutoff,
                                     [](const Stored& s, std::int64_t c) { return s.id < c; });
    return static_cast<std::size_t>(it - messages_.begin());
}

void UserQueue::for_each_oldest(std::size_t n,
                                const std::function<void(const std::string&)>& f) const {
    n = std::min(n, messages_.size());
    for (std::size_t i = 0; i < n; ++i) f(*messages_[i].sender->sender->jid);
}

}  // namespace unread
