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

// An rb-tree node is the value plus three pointers and a colour word.
constexpr std::size_t kSetNodeOverhead = 4 * sizeof(void*);
// An unordered_map node is the value, a next pointer and the cached hash.
constexpr std::size_t kMapNodeOverhead = 2 * sizeof(void*);

std::size_t string_heap(const std::string& s) noexcept {
    // libstdc++ keeps up to 15 characters inside the string object.
    return s.capacity() > 15 ? heap_bytes(s.capacity() + 1) : 0;
}

std::size_t sender_node_bytes(const std::string& sender) noexcept {
    return heap_bytes(sizeof(std::pair<const std::string, std::size_t>) + kMapNodeOverhead) +
           string_heap(sender);
}

}  // namespace

std::size_t UserQueue::stored_bytes(const Stored& s) noexcept {
    return heap_bytes(sizeof(Stored) + kSetNodeOverhead) +
           heap_bytes(std::size_t{s.subject_len} + s.preview_len);
}

bool UserQueue::insert(MessageHeader&& message) {
    if (messages_.find(ById::Key{message.id, message.key}) != messages_.end()) return false;

    const std::string_view subject = cap(message.subject);
    const std::string_view preview = cap(message.preview);
    auto [sender, fresh_sender] = senders_.try_emplace(std::move(message.from), 0);
    Stored stored{message.id,
                  message.key,
                  &sender->first,
                  nullptr,
                  static_cast<std::uint16_t>(subject.size()),
                  static_cast<std::uint16_t>(preview.size()),
                  message.type};
    if (const std::size_t len = subject.size() + preview.size(); len > 0) {
        stored.text = std::make_unique<char[]>(len);
        std::memcpy(stored.text.get(), subject.data(), subject.size());
        std::memcpy(stored.text.get() + subject.size(), preview.data(), preview.size());
    }
    if (fresh_sender) bytes_ += sender_node_bytes(sender->first);
    ++sender->second;
    bytes_ += stored_bytes(stored);
    messages_.insert(std::move(stored));
    return true;
}

bool UserQueue::erase(std::int64_t id, std::uint64_t key) {
    const auto it = messages_.find(ById::Key{id, key});
    if (it == messages_.end()) return false;
    bytes_ -= stored_bytes(*it);
    const auto sender = senders_.find(*it->sender);
    messages_.erase(it);
    if (--sender->second == 0) {
        bytes_ -= sender_node_bytes(sender->first);
        senders_.erase(sender);
    }
    return true;
}

bool UserQueue::contains(std::int64_t id, std::uint64_t key) const {
    return messages_.find(ById::Key{id, key}) != messages_.end();
}

UserSummary UserQueue::summary() const {
    if (messages_.empty()) return {};
    return {messages_.size(), messages_.begin()->id, messages_.rbegin()->id};
}

std::vector<SenderCount> UserQueue::senders() const {
    std::vector<SenderCount> out;
    out.reserve(senders_.size());
    for (const auto& [sender, count] : senders_) out.push_back({sender, count});
    std::sort(out.begin(), out.end(), [](const SenderCount& a, const SenderCount& b) {
        return a.count > b.count || (a.count == b.count && a.sender < b.sender);
    });
    return out;
}

MessageHeader UserQueue::header_of(const Stored& s) {
    MessageHeader h;
    h.id = s.id;
    h.key = s.key;
    h.from = *s.sender;
    h.type = s.type;
    if (s.text) {
        h.subject.assign(s.text.get(), s.subject_len);
        h.preview.assign(s.text.get() + s.subject_len, s.preview_len);
    }
    return h;
}

void UserQueue::page(std::size_t offset, std::size_t limit, std::string_view from,
                     std::vector<MessageHeader>& out) const {
    for (auto it = messages_.rbegin(); it != messages_.rend() && limit > 0; ++it) {
        if (!from.empty() && *it->sender != from) continue;
        if (offset > 0) {
            --offset;
            continue;
        }
        out.push_back(header_of(*it));
        --limit;
    }
}

void UserQueue::for_each_key(const std::function<void(std::int64_t, std::uint64_t)>& f) const {
    for (const Stored& s : messages_) f(s.id, s.key);
}

}  // namespace unread
