#include "terms.hpp"

#include <cstring>

namespace unread::nif {

bool get_binary(ErlNifEnv* env, ERL_NIF_TERM term, std::string_view& out) {
    ErlNifBinary bin;
    if (!enif_inspect_binary(env, term, &bin)) return false;
    out = std::string_view(reinterpret_cast<const char*>(bin.data), bin.size);
    return true;
}

bool get_size(ErlNifEnv* env, ERL_NIF_TERM term, std::size_t& out) {
    ErlNifUInt64 n;
    if (!enif_get_uint64(env, term, &n)) return false;
    out = static_cast<std::size_t>(n);
    return true;
}

bool get_tuple(ErlNifEnv* env, ERL_NIF_TERM term, int arity, const ERL_NIF_TERM*& elems) {
    int n = 0;
    return enif_get_tuple(env, term, &n, &elems) && n == arity;
}

ERL_NIF_TERM make_binary(ErlNifEnv* env, std::string_view s) {
    ERL_NIF_TERM term;
    unsigned char* data = enif_make_new_binary(env, s.size(), &term);
    if (!s.empty()) std::memcpy(data, s.data(), s.size());
    return term;
}

ERL_NIF_TERM make_atom(ErlNifEnv* env, const char* name) {
    ERL_NIF_TERM atom;
    if (enif_make_existing_atom(env, name, &atom, ERL_NIF_LATIN1)) return atom;
    return enif_make_atom(env, name);
}

ERL_NIF_TERM make_uint(ErlNifEnv* env, std::uint64_t n) {
    return enif_make_uint64(env, n);
}

ERL_NIF_TERM make_int(ErlNifEnv* env, std::int64_t n) {
    return enif_make_int64(env, n);
}

}  // namespace unread::nif
