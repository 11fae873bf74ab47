// Small conversions between Erlang terms and C++ values. Every getter returns
// false on a term of the wrong shape, so callers can answer badarg.
#pragma once

#include <erl_nif.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace unread::nif {

bool get_binary(ErlNifEnv* env, ERL_NIF_TERM term, std::string_view& out);
bool get_size(ErlNifEnv* env, ERL_NIF_TERM term, std::size_t& out);
// A tuple of exactly `arity` elements.
bool get_tuple(ErlNifEnv* env, ERL_NIF_TERM term, int arity, const ERL_NIF_TERM*& elems);

ERL_NIF_TERM make_binary(ErlNifEnv* env, std::string_view s);
ERL_NIF_TERM make_atom(ErlNifEnv* env, const char* name);
ERL_NIF_TERM make_uint(ErlNifEnv* env, std::uint64_t n);
ERL_NIF_TERM make_int(ErlNifEnv* env, std::int64_t n);

}  // namespace unread::nif
