#include "shard.hpp"

#include "unread/text.hpp"

namespace unread {

std::size_t Shard::user_node_bytes(const std::string& user) noexcept {
    return heap_bytes(sizeof(Users::value_type) + 2 * sizeof(void*)) + string_heap_bytes(user);
}

std::size_t Shard::rank_node_bytes() noexcept {
    return heap_bytes(sizeof(Rank) + 4 * sizeof(void*));
}

std::size_t Shard::all_bytes() const noexcept {
    return bytes + ranking.size() * rank_node_bytes() + users.bucket_count() * sizeof(void*) +
           view.bytes();
}

void Shard::erase_user(Users::iterator it) {
    it->second.release(view);
    const std::size_t count = it->second.size();
    ranking.erase(Rank{count, it->first});
    messages -= count;
    bytes -= it->second.bytes() + user_node_bytes(it->first);
    users.erase(it);
}

}  // namespace unread
