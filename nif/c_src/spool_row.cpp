#include "spool_row.hpp"

#include "atoms.hpp"
#include "terms.hpp"

namespace unread::nif {

bool get_spool_row(ErlNifEnv* env, ERL_NIF_TERM term, SpoolRow& out) {
    const ERL_NIF_TERM* t;
    ErlNifSInt64 seq;
    if (!get_tuple(env, term, 4, t) || !enif_get_int64(env, t[0], &seq) ||
        !get_binary(env, t[1], out.user) || !get_binary(env, t[2], out.xml) ||
        !get_binary(env, t[3], out.created_at))
        return false;
    out.seq = seq;
    return true;
}

namespace {

// #jid{user, server, resource, luser, lserver, lresource} of a bare JID
// whose parts are already in lower case.
ERL_NIF_TERM bare_jid_term(ErlNifEnv* env, ERL_NIF_TERM user, ERL_NIF_TERM server) {
    const ERL_NIF_TERM empty = make_binary(env, {});
    const ERL_NIF_TERM elems[] = {atoms().jid, user, server, empty, user, server, empty};
    return enif_make_tuple_from_array(env, elems, 7);
}

// [#text{lang = <<>>, data = Text}], or [] for no text.
ERL_NIF_TERM texts(ErlNifEnv* env, std::string_view text) {
    if (text.empty()) return enif_make_list(env, 0);
    return enif_make_list1(
        env, enif_make_tuple3(env, atoms().text, make_binary(env, {}), make_binary(env, text)));
}

}  // namespace

ERL_NIF_TERM make_spool_record(ErlNifEnv* env, ERL_NIF_TERM host, const SpoolRow& row,
                               const spool::ScannedRow& scanned, const spool::Scanner& scanner) {
    const ERL_NIF_TERM user = make_binary(env, row.user);
    const std::string_view from = scanner.text(scanned.from);
    const std::size_t at = from.find('@');
    const ERL_NIF_TERM from_jid =
        at == std::string_view::npos
            ? bare_jid_term(env, make_binary(env, {}), make_binary(env, from))
            : bare_jid_term(env, make_binary(env, from.substr(0, at)),
                            make_binary(env, from.substr(at + 1)));
    const std::int64_t id = scanned.id;
    const ERL_NIF_TERM timestamp =
        enif_make_tuple3(env, make_int(env, id / 1'000'000'000'000),
                         make_int(env, id / 1'000'000 % 1'000'000), make_int(env, id % 1'000'000));
    const ERL_NIF_TERM undefined = atoms().undefined;
    // #message{id, type, lang, from, to, subject, body, thread, sub_els, meta}
    const ERL_NIF_TERM message[] = {atoms().message,
                                    make_binary(env, {}),
                                    type_atom(scanned.type),
                                    make_binary(env, {}),
                                    undefined,
                                    undefined,
                                    texts(env, scanner.text(scanned.subject)),
                                    texts(env, scanner.text(scanned.body)),
                                    undefined,
                                    enif_make_list(env, 0),
                                    enif_make_new_map(env)};
    const ERL_NIF_TERM record[] = {atoms().offline_msg,
                                   enif_make_tuple2(env, user, host),
                                   timestamp,
                                   enif_make_tuple2(env, atoms().seq, make_int(env, row.seq)),
                                   from_jid,
                                   bare_jid_term(env, user, host),
                                   enif_make_tuple_from_array(env, message, 11)};
    return enif_make_tuple_from_array(env, record, 7);
}

}  // namespace unread::nif
