// erl_nif binding of the unread index (Erlang module unread_nif). Every
// argument is checked and answered with badarg when malformed; anything that
// may take long runs on a dirty scheduler.
#include <erl_nif.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

#include "atoms.hpp"
#include "offline_record.hpp"
#include "reaper.hpp"
#include "spool_row.hpp"
#include "terms.hpp"
#include "unread/index.hpp"
#include "unread/text.hpp"

namespace unread::nif {
namespace {

// Above these sizes a page or ranking is built on a dirty scheduler; the
// ceiling keeps even dirty calls bounded.
constexpr std::size_t kNormalSchedulerItems = 100;
constexpr std::size_t kMaxItems = 10'000;

struct IndexResource {
    std::unique_ptr<Index> index;
};

// Indexes alive in this VM: lets tests see that the VM frees every index
// once nothing refers to it.
std::atomic<long> live_indexes{0};

ErlNifResourceType* index_type(ErlNifEnv* env) {
    return static_cast<ErlNifResourceType*>(enif_priv_data(env));
}

Reaper& reaper() {
    static Reaper r([] { live_indexes.fetch_sub(1); });
    return r;
}

void destroy_index(ErlNifEnv*, void* obj) {
    auto* resource = static_cast<IndexResource*>(obj);
    reaper().give(std::move(resource->index));
    std::destroy_at(resource);
}

bool get_index(ErlNifEnv* env, ERL_NIF_TERM term, Index*& out) {
    void* obj = nullptr;
    if (!enif_get_resource(env, term, index_type(env), &obj)) return false;
    out = static_cast<IndexResource*>(obj)->index.get();
    return out != nullptr;
}

// Runs f, turning C++ exceptions into Erlang errors: nothing may unwind into
// the VM.
template <class F>
ERL_NIF_TERM guarded(ErlNifEnv* env, F&& f) {
    try {
        return std::forward<F>(f)();
    } catch (const std::bad_alloc&) {
        return enif_raise_exception(env, make_atom(env, "enomem"));
    } catch (const std::exception&) {
        return enif_raise_exception(env, make_atom(env, "internal_error"));
    }
}

ERL_NIF_TERM new_index(ErlNifEnv* env, int argc, const ERL_NIF_TERM[]) {
    if (argc != 0) return enif_make_badarg(env);
    return guarded(env, [&] {
        void* obj = enif_alloc_resource(index_type(env), sizeof(IndexResource));
        if (!obj) return enif_raise_exception(env, make_atom(env, "enomem"));
        // The resource owns its memory; we only give it a C++ lifetime.
        try {
            std::construct_at(static_cast<IndexResource*>(obj),
                              IndexResource{std::make_unique<Index>()});
        } catch (...) {
            std::construct_at(static_cast<IndexResource*>(obj), IndexResource{});
            enif_release_resource(obj);
            throw;
        }
        live_indexes.fetch_add(1);
        ERL_NIF_TERM term = enif_make_resource(env, obj);
        enif_release_resource(obj);
        return term;
    });
}

ERL_NIF_TERM insert(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    std::size_t preview;
    if (argc != 3 || !get_index(env, argv[0], index) || !get_size(env, argv[2], preview))
        return enif_make_badarg(env);
    return guarded(env, [&] {
        RecordDecoder decoder(env);
        OfflineRecord rec;
        if (!decoder.decode(argv[1], rec)) return enif_make_badarg(env);
        return bool_atom(index->insert(rec.user, decoder.view(rec, preview)));
    });
}

// insert_many(Index, Records, PreviewChars) -> Inserted, on a dirty
// scheduler. A rebuild's chunk: the store hands out a user's records
// together, so each run of one user's records goes in under one lock.
ERL_NIF_TERM insert_many(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    std::size_t preview;
    unsigned len;
    if (argc != 3 || !get_index(env, argv[0], index) || !enif_get_list_length(env, argv[1], &len) ||
        !get_size(env, argv[2], preview))
        return enif_make_badarg(env);
    return guarded(env, [&] {
        // Decode all first: a malformed record fails the call with nothing inserted.
        RecordDecoder decoder(env);
        std::vector<OfflineRecord> records(len);
        ERL_NIF_TERM list = argv[1], head;
        for (OfflineRecord& rec : records) {
            enif_get_list_cell(env, list, &head, &list);
            if (!decoder.decode(head, rec)) return enif_make_badarg(env);
        }
        std::uint64_t inserted = 0;
        std::vector<MessageView> run;
        for (std::size_t i = 0; i < records.size();) {
            const std::string_view user = records[i].user;
            run.clear();
            for (; i < records.size() && records[i].user == user; ++i)
                run.push_back(decoder.view(records[i], preview));
            inserted += index->insert_all(user, run);
        }
        return make_uint(env, inserted);
    });
}

ERL_NIF_TERM delete_object(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    if (argc != 2 || !get_index(env, argv[0], index)) return enif_make_badarg(env);
    return guarded(env, [&] {
        RecordDecoder decoder(env);
        OfflineRecord rec;
        if (!decoder.decode(argv[1], rec)) return enif_make_badarg(env);
        return bool_atom(index->erase(rec.user, rec.id, rec.key));
    });
}

// Above this many messages, dropping a user's queue or sorting its senders
// is bulk work (one free or one comparison per message): a dirty job.
constexpr std::size_t kNormalSchedulerQueue = 2000;

// Checks Index and User, then runs impl on a dirty scheduler if the user's
// queue is long, or right here.
ERL_NIF_TERM per_user(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[], const char* name,
                      ERL_NIF_TERM (*impl)(ErlNifEnv*, int, const ERL_NIF_TERM[])) {
    Index* index;
    std::string_view user;
    if (argc != 2 || !get_index(env, argv[0], index) || !get_binary(env, argv[1], user))
        return enif_make_badarg(env);
    if (index->count(user) > kNormalSchedulerQueue)
        return enif_schedule_nif(env, name, ERL_NIF_DIRTY_JOB_CPU_BOUND, impl, argc, argv);
    return impl(env, argc, argv);
}

ERL_NIF_TERM delete_user_impl(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
    Index* index = nullptr;
    std::string_view user;
    get_index(env, argv[0], index);
    get_binary(env, argv[1], user);
    return guarded(env, [&] { return make_uint(env, index->erase_user(user)); });
}

ERL_NIF_TERM delete_user(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return per_user(env, argc, argv, "delete_user", delete_user_impl);
}

ERL_NIF_TERM clear(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    if (argc != 1 || !get_index(env, argv[0], index)) return enif_make_badarg(env);
    return guarded(env, [&] {
        index->clear();
        return atoms().ok;
    });
}

ERL_NIF_TERM count(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    std::string_view user;
    if (argc != 2 || !get_index(env, argv[0], index) || !get_binary(env, argv[1], user))
        return enif_make_badarg(env);
    return guarded(env, [&] { return make_uint(env, index->count(user)); });
}

ERL_NIF_TERM senders_impl(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
    Index* index = nullptr;
    std::string_view user;
    get_index(env, argv[0], index);
    get_binary(env, argv[1], user);
    return guarded(env, [&] {
        ERL_NIF_TERM list = enif_make_list(env, 0);
        const auto all = index->senders(user);
        for (auto it = all.rbegin(); it != all.rend(); ++it) {
            list = enif_make_list_cell(
                env, enif_make_tuple2(env, make_binary(env, it->sender), make_uint(env, it->count)),
                list);
        }
        return list;
    });
}

ERL_NIF_TERM senders(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    return per_user(env, argc, argv, "senders", senders_impl);
}

// Runs after page/5 checked the arguments.
ERL_NIF_TERM page_impl(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
    Index* index = nullptr;
    std::string_view user, from;
    std::size_t offset = 0, limit = 0;
    get_index(env, argv[0], index);
    get_binary(env, argv[1], user);
    get_size(env, argv[2], offset);
    get_size(env, argv[3], limit);
    get_binary(env, argv[4], from);
    return guarded(env, [&] {
        const auto msgs = index->page(user, offset, limit, from);
        ERL_NIF_TERM list = enif_make_list(env, 0);
        for (auto it = msgs.rbegin(); it != msgs.rend(); ++it) {
            const ERL_NIF_TERM elems[] = {
                make_int(env, it->id),         make_uint(env, it->key),
                make_binary(env, it->from),    type_atom(it->type),
                make_binary(env, it->subject), make_binary(env, it->preview)};
            list = enif_make_list_cell(env, enif_make_tuple_from_array(env, elems, 6), list);
        }
        return list;
    });
}

// page(Index, User, Offset, Limit, From) -> [{Id, Key, From, Type, Subject,
// Preview}], newest first; From = <<>> for any sender. {Id, Key} is the
// message's identity, what bodies/2 matches store records with.
ERL_NIF_TERM page(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    std::string_view user, from;
    std::size_t offset, limit;
    if (argc != 5 || !get_index(env, argv[0], index) || !get_binary(env, argv[1], user) ||
        !get_size(env, argv[2], offset) || !get_size(env, argv[3], limit) ||
        !get_binary(env, argv[4], from) || limit > kMaxItems)
        return enif_make_badarg(env);
    // Skipping and filtering walk the queue, so a deep page is bulk work too.
    if (limit > kNormalSchedulerItems || offset > kMaxItems || !from.empty())
        return enif_schedule_nif(env, "page", ERL_NIF_DIRTY_JOB_CPU_BOUND, page_impl, argc, argv);
    return page_impl(env, argc, argv);
}

// Runs after top/2 checked the arguments.
ERL_NIF_TERM top_impl(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
    Index* index = nullptr;
    std::size_t limit = 0;
    get_index(env, argv[0], index);
    get_size(env, argv[1], limit);
    return guarded(env, [&] {
        const auto users = index->top(limit);
        ERL_NIF_TERM list = enif_make_list(env, 0);
        for (auto it = users.rbegin(); it != users.rend(); ++it) {
            list = enif_make_list_cell(
                env, enif_make_tuple2(env, make_binary(env, it->user), make_uint(env, it->count)),
                list);
        }
        return list;
    });
}

ERL_NIF_TERM top(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    std::size_t limit;
    if (argc != 2 || !get_index(env, argv[0], index) || !get_size(env, argv[1], limit) ||
        limit > kMaxItems)
        return enif_make_badarg(env);
    if (limit > kNormalSchedulerItems)
        return enif_schedule_nif(env, "top", ERL_NIF_DIRTY_JOB_CPU_BOUND, top_impl, argc, argv);
    return top_impl(env, argc, argv);
}

ERL_NIF_TERM stats(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    if (argc != 1 || !get_index(env, argv[0], index)) return enif_make_badarg(env);
    return guarded(env, [&] {
        return enif_make_tuple3(env, make_uint(env, index->total()), make_uint(env, index->users()),
                                make_uint(env, index->memory_bytes()));
    });
}

// Histogram bounds per health/3 call: Prometheus-style buckets are a dozen
// or so; the ceiling keeps the argument's decoding trivially cheap.
constexpr unsigned kMaxBounds = 64;

// health(Index, Bounds, Threshold) -> {Users, Messages, Oldest, Buckets,
// AtLeast}: Oldest is none or {Id, User}; Buckets, cumulative, one count per
// bound (users with at most that many messages); AtLeast the users with at
// least Threshold messages, largest first (none for Threshold 0). One pass
// over every user, so always on a dirty scheduler.
ERL_NIF_TERM health(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    std::size_t threshold;
    unsigned len;
    if (argc != 3 || !get_index(env, argv[0], index) || !enif_get_list_length(env, argv[1], &len) ||
        len > kMaxBounds || !get_size(env, argv[2], threshold))
        return enif_make_badarg(env);
    std::vector<std::size_t> bounds(len);
    ERL_NIF_TERM list = argv[1], head;
    for (std::size_t& b : bounds) {
        enif_get_list_cell(env, list, &head, &list);
        if (!get_size(env, head, b)) return enif_make_badarg(env);
    }
    if (!std::is_sorted(bounds.begin(), bounds.end(), std::less_equal<>{}))
        return enif_make_badarg(env);
    return guarded(env, [&] {
        const Health h = index->health(bounds, threshold);
        ERL_NIF_TERM buckets = enif_make_list(env, 0);
        for (auto it = h.buckets.rbegin(); it != h.buckets.rend(); ++it)
            buckets = enif_make_list_cell(env, make_uint(env, *it), buckets);
        ERL_NIF_TERM at_least = enif_make_list(env, 0);
        for (auto it = h.at_least.rbegin(); it != h.at_least.rend(); ++it) {
            at_least = enif_make_list_cell(
                env, enif_make_tuple2(env, make_binary(env, it->user), make_uint(env, it->count)),
                at_least);
        }
        const ERL_NIF_TERM oldest = h.users == 0
                                        ? make_atom(env, "none")
                                        : enif_make_tuple2(env, make_int(env, h.oldest_id),
                                                           make_binary(env, h.oldest_user));
        const ERL_NIF_TERM elems[] = {make_uint(env, h.users), make_uint(env, h.messages), oldest,
                                      buckets, at_least};
        return enif_make_tuple_from_array(env, elems, 5);
    });
}

ERL_NIF_TERM diff_tuple(ErlNifEnv* env, const UserDiff& d) {
    const ERL_NIF_TERM elems[] = {make_binary(env, d.user), make_uint(env, d.count_before),
                                  make_uint(env, d.count_after), make_uint(env, d.added),
                                  make_uint(env, d.removed)};
    return enif_make_tuple_from_array(env, elems, 5);
}

// diff(Before, After) -> [{User, CountBefore, CountAfter, Added, Removed}].
ERL_NIF_TERM diff(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* before;
    Index* after;
    if (argc != 2 || !get_index(env, argv[0], before) || !get_index(env, argv[1], after))
        return enif_make_badarg(env);
    return guarded(env, [&] {
        ERL_NIF_TERM list = enif_make_list(env, 0);
        for (const UserDiff& d : Index::diff(*before, *after))
            list = enif_make_list_cell(env, diff_tuple(env, d), list);
        return list;
    });
}

// replace_user(Index, Host, User, Records, PreviewChars) -> {User, Before,
// After, Added, Removed}: sets the user's messages to the given store records.
ERL_NIF_TERM replace_user(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    std::string_view host, user;
    std::size_t preview;
    unsigned len;
    if (argc != 5 || !get_index(env, argv[0], index) || !get_binary(env, argv[1], host) ||
        !get_binary(env, argv[2], user) || !enif_get_list_length(env, argv[3], &len) ||
        !get_size(env, argv[4], preview))
        return enif_make_badarg(env);
    return guarded(env, [&] {
        RecordDecoder decoder(env);
        std::vector<MessageHeader> messages;
        messages.reserve(len);
        ERL_NIF_TERM list = argv[3], head;
        while (enif_get_list_cell(env, list, &head, &list)) {
            OfflineRecord rec;
            if (!decoder.decode(head, rec) || rec.user != user || rec.server != host)
                return enif_make_badarg(env);
            const MessageView v = decoder.view(rec, preview);
            messages.push_back({v.id, v.key, std::string(v.from), v.type, std::string(v.subject),
                                std::string(v.preview)});
        }
        return diff_tuple(env, index->replace_user(user, std::move(messages)));
    });
}

// bodies(Records, Wanted) -> [{Id, Key, Body}] for the records whose
// {Id, Key} is in Wanted, with the body the preview is cut from. On a dirty
// scheduler: a user's records can be many and large.
ERL_NIF_TERM bodies(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    unsigned records_len, wanted_len;
    if (argc != 2 || !enif_get_list_length(env, argv[0], &records_len) ||
        !enif_get_list_length(env, argv[1], &wanted_len))
        return enif_make_badarg(env);
    return guarded(env, [&] {
        std::vector<std::pair<std::int64_t, std::uint64_t>> wanted;
        wanted.reserve(wanted_len);
        ERL_NIF_TERM list = argv[1], head;
        while (enif_get_list_cell(env, list, &head, &list)) {
            const ERL_NIF_TERM* t;
            ErlNifSInt64 id;
            ErlNifUInt64 key;
            if (!get_tuple(env, head, 2, t) || !enif_get_int64(env, t[0], &id) ||
                !enif_get_uint64(env, t[1], &key))
                return enif_make_badarg(env);
            wanted.emplace_back(id, key);
        }
        std::sort(wanted.begin(), wanted.end());
        const auto wants_id = [&](std::int64_t id) {
            const auto it = std::lower_bound(wanted.begin(), wanted.end(),
                                             std::make_pair(id, std::uint64_t{0}));
            return it != wanted.end() && it->first == id;
        };
        RecordDecoder decoder(env);
        ERL_NIF_TERM out = enif_make_list(env, 0);
        list = argv[0];
        while (enif_get_list_cell(env, list, &head, &list)) {
            std::int64_t id;
            OfflineRecord rec;
            // Most of a long queue is not on the page: skip it by id, unread.
            if (!decoder.decode_id(head, id)) return enif_make_badarg(env);
            if (!wants_id(id)) continue;
            if (!decoder.decode(head, rec)) return enif_make_badarg(env);
            if (!std::binary_search(wanted.begin(), wanted.end(), std::make_pair(rec.id, rec.key)))
                continue;
            out = enif_make_list_cell(
                env,
                enif_make_tuple3(env, make_int(env, rec.id), make_uint(env, rec.key),
                                 decoder.body_term(rec)),
                out);
        }
        return out;
    });
}

template <class T, class F>
ERL_NIF_TERM list_of(ErlNifEnv* env, const std::vector<T>& items, F&& item) {
    ERL_NIF_TERM list = enif_make_list(env, 0);
    for (auto it = items.rbegin(); it != items.rend(); ++it)
        list = enif_make_list_cell(env, item(*it), list);
    return list;
}

ERL_NIF_TERM user_counts(ErlNifEnv* env, const std::vector<UserCount>& users) {
    return list_of(env, users, [&](const UserCount& u) {
        return enif_make_tuple2(env, make_binary(env, u.user), make_uint(env, u.count));
    });
}

bool get_scope(ErlNifEnv* env, ERL_NIF_TERM term, SenderScope& out) {
    if (same(term, make_atom(env, "jid"))) {
        out = SenderScope::jid;
    } else if (same(term, make_atom(env, "domain"))) {
        out = SenderScope::domain;
    } else {
        return false;
    }
    return true;
}

// sender_impact(Index, Name, jid | domain, Limit) -> {Messages, Users,
// Senders, [{User, Count}]}, on a dirty scheduler: the work grows with the
// users the sender reaches (about 1 ms per 10,000).
ERL_NIF_TERM sender_impact(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    std::string_view name;
    SenderScope scope;
    std::size_t limit;
    if (argc != 4 || !get_index(env, argv[0], index) || !get_binary(env, argv[1], name) ||
        !get_scope(env, argv[2], scope) || !get_size(env, argv[3], limit) || limit > kMaxItems)
        return enif_make_badarg(env);
    return guarded(env, [&] {
        const SenderImpact r = index->sender_impact(name, scope, limit);
        return enif_make_tuple4(env, make_uint(env, r.messages), make_uint(env, r.users),
                                make_uint(env, r.senders), user_counts(env, r.top));
    });
}

// sender_users(Index, Name, jid | domain) -> [{User, Count}] by name, on a
// dirty scheduler.
ERL_NIF_TERM sender_users(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    std::string_view name;
    SenderScope scope;
    if (argc != 3 || !get_index(env, argv[0], index) || !get_binary(env, argv[1], name) ||
        !get_scope(env, argv[2], scope))
        return enif_make_badarg(env);
    return guarded(env, [&] { return user_counts(env, index->sender_users(name, scope)); });
}

// older_than(Index, CutoffId, Limit) -> {Messages, Users, [{Sender, Count}]},
// on a dirty scheduler: a binary search per user and a walk of the old ones.
ERL_NIF_TERM older_than(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    ErlNifSInt64 cutoff;
    std::size_t limit;
    if (argc != 3 || !get_index(env, argv[0], index) || !enif_get_int64(env, argv[1], &cutoff) ||
        !get_size(env, argv[2], limit) || limit > kMaxItems)
        return enif_make_badarg(env);
    return guarded(env, [&] {
        const RetentionImpact r = index->older_than(cutoff, limit);
        const ERL_NIF_TERM top = list_of(env, r.top_senders, [&](const SenderCount& c) {
            return enif_make_tuple2(env, make_binary(env, c.sender), make_uint(env, c.count));
        });
        return enif_make_tuple3(env, make_uint(env, r.messages), make_uint(env, r.users), top);
    });
}

// users_older_than(Index, CutoffId) -> [{User, Count}] by name.
ERL_NIF_TERM users_older_than(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    ErlNifSInt64 cutoff;
    if (argc != 2 || !get_index(env, argv[0], index) || !enif_get_int64(env, argv[1], &cutoff))
        return enif_make_badarg(env);
    return guarded(env, [&] { return user_counts(env, index->users_older_than(cutoff)); });
}

// insert_rows(Index, Host, Rows, PreviewChars) -> {Indexed, Declined}, on a
// dirty scheduler: a rebuild's page of SQL spool rows [{Seq, LUser, XML,
// CreatedAt}] scanned and indexed without a term per row. Declined are the
// rows the scanner leaves to the reference path (mod_unread_sql:record/5),
// in their order; Indexed counts the rest.
ERL_NIF_TERM insert_rows(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    Index* index;
    std::string_view host;
    std::size_t preview;
    unsigned len;
    if (argc != 4 || !get_index(env, argv[0], index) || !get_binary(env, argv[1], host) ||
        !enif_get_list_length(env, argv[2], &len) || !get_size(env, argv[3], preview))
        return enif_make_badarg(env);
    return guarded(env, [&] {
        // Scan all first: the arena moves while it grows.
        spool::Scanner scanner;
        std::vector<std::pair<std::string_view, spool::ScannedRow>> rows;
        std::vector<std::int64_t> seqs;
        rows.reserve(len);
        seqs.reserve(len);
        ERL_NIF_TERM declined = enif_make_list(env, 0);
        ERL_NIF_TERM list = argv[2], head;
        while (enif_get_list_cell(env, list, &head, &list)) {
            SpoolRow row;
            spool::ScannedRow scanned;
            if (get_spool_row(env, head, row) &&
                scanner.scan(row.xml, {host, row.created_at, row.seq}, scanned)) {
                rows.emplace_back(row.user, scanned);
                seqs.push_back(row.seq);
            } else {
                declined = enif_make_list_cell(env, head, declined);
            }
        }
        std::vector<MessageView> run;
        for (std::size_t i = 0; i < rows.size();) {
            const std::string_view user = rows[i].first;
            run.clear();
            for (; i < rows.size() && rows[i].first == user; ++i) {
                const spool::ScannedRow& r = rows[i].second;
                run.push_back({r.id, spool_key(seqs[i]), scanner.text(r.from), r.type,
                               scanner.text(r.subject),
                               utf8_prefix(scanner.text(r.body), preview)});
            }
            index->insert_all(user, run);
        }
        ERL_NIF_TERM in_order;
        enif_make_reverse_list(env, declined, &in_order);
        return enif_make_tuple2(env, make_uint(env, rows.size()), in_order);
    });
}

// scan_rows(Host, Rows) -> [#offline_msg{} | declined], one per row, on a
// dirty scheduler (rows may be large): the records the SQL backend hands to
// the index for the change log and a user's re-read, from the same scanner
// as insert_rows/4.
ERL_NIF_TERM scan_rows(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]) {
    std::string_view host;
    unsigned len;
    if (argc != 2 || !get_binary(env, argv[0], host) || !enif_get_list_length(env, argv[1], &len))
        return enif_make_badarg(env);
    return guarded(env, [&] {
        spool::Scanner scanner;
        std::vector<ERL_NIF_TERM> out;
        out.reserve(len);
        ERL_NIF_TERM list = argv[1], head;
        while (enif_get_list_cell(env, list, &head, &list)) {
            SpoolRow row;
            spool::ScannedRow scanned;
            scanner.clear();
            if (get_spool_row(env, head, row) &&
                scanner.scan(row.xml, {host, row.created_at, row.seq}, scanned))
                out.push_back(make_spool_record(env, argv[0], row, scanned, scanner));
            else
                out.push_back(atoms().declined);
        }
        return enif_make_list_from_array(env, out.data(), static_cast<unsigned>(out.size()));
    });
}

ERL_NIF_TERM live(ErlNifEnv* env, int argc, const ERL_NIF_TERM[]) {
    if (argc != 0) return enif_make_badarg(env);
    return enif_make_long(env, live_indexes.load());
}

int open_resource_type(ErlNifEnv* env, void** priv, ErlNifResourceFlags flags) {
    ErlNifResourceType* type =
        enif_open_resource_type(env, nullptr, "unread_index", destroy_index, flags, nullptr);
    if (!type) return 1;
    *priv = type;
    return 0;
}

int load(ErlNifEnv* env, void** priv, ERL_NIF_TERM) {
    make_atoms(env);
    return open_resource_type(env, priv, ERL_NIF_RT_CREATE);
}

// Reloading the module (a code upgrade) takes over the resource type, so
// indexes made by the old code stay valid.
int upgrade(ErlNifEnv* env, void** priv, void**, ERL_NIF_TERM) {
    make_atoms(env);
    return open_resource_type(
        env, priv, static_cast<ErlNifResourceFlags>(ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER));
}

// The library is going away: its reaper's thread must not outlive its code.
void unload(ErlNifEnv*, void*) {
    reaper().stop();
}

ErlNifFunc nif_funcs[] = {
    {"new", 0, new_index, 0},
    {"insert", 3, insert, 0},
    {"insert_many", 3, insert_many, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"delete_object", 2, delete_object, 0},
    {"delete_user", 2, delete_user, 0},
    {"clear", 1, clear, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"count", 2, count, 0},
    {"senders", 2, senders, 0},
    {"page", 5, page, 0},
    {"top", 2, top, 0},
    {"stats", 1, stats, 0},
    {"health", 3, health, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"diff", 2, diff, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"replace_user", 5, replace_user, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"bodies", 2, bodies, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"sender_impact", 4, sender_impact, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"sender_users", 3, sender_users, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"older_than", 3, older_than, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"users_older_than", 2, users_older_than, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"insert_rows", 4, insert_rows, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"scan_rows", 2, scan_rows, ERL_NIF_DIRTY_JOB_CPU_BOUND},
    {"live_indexes", 0, live, 0},
};

}  // namespace
}  // namespace unread::nif

ERL_NIF_INIT(unread_nif, unread::nif::nif_funcs, unread::nif::load, nullptr, unread::nif::upgrade,
             unread::nif::unload)
