// Atoms the binding reads and writes, made once when the library loads.
// Atoms live as long as the VM and are the same term in every environment,
// so a record's tags are compared by identity, not by their text.
#pragma once

#include <erl_nif.h>

#include "unread/message.hpp"

namespace unread::nif {

struct Atoms {
    ERL_NIF_TERM offline_msg;
    ERL_NIF_TERM jid;
    ERL_NIF_TERM xmlel;
    ERL_NIF_TERM xmlcdata;
    ERL_NIF_TERM message;
    ERL_NIF_TERM text;
    ERL_NIF_TERM true_;
    ERL_NIF_TERM false_;
    ERL_NIF_TERM ok;
    ERL_NIF_TERM seq;
    ERL_NIF_TERM undefined;
    ERL_NIF_TERM declined;
    // Indexed by MessageType.
    ERL_NIF_TERM types[5];
};

// Called from the library's load and upgrade callbacks, before any NIF runs.
void make_atoms(ErlNifEnv* env);
const Atoms& atoms() noexcept;

inline bool same(ERL_NIF_TERM a, ERL_NIF_TERM b) noexcept {
    return enif_is_identical(a, b);
}

inline ERL_NIF_TERM bool_atom(bool b) noexcept {
    return b ? atoms().true_ : atoms().false_;
}

inline ERL_NIF_TERM type_atom(MessageType type) noexcept {
    return atoms().types[static_cast<int>(type)];
}

}  // namespace unread::nif
