#include "atoms.hpp"

namespace unread::nif {
namespace {

Atoms the_atoms;

}  // namespace

void make_atoms(ErlNifEnv* env) {
    const auto atom = [env](const char* name) { return enif_make_atom(env, name); };
    the_atoms.offline_msg = atom("offline_msg");
    the_atoms.jid = atom("jid");
    the_atoms.xmlel = atom("xmlel");
    the_atoms.xmlcdata = atom("xmlcdata");
    the_atoms.message = atom("message");
    the_atoms.text = atom("text");
    the_atoms.true_ = atom("true");
    the_atoms.false_ = atom("false");
    the_atoms.ok = atom("ok");
    the_atoms.seq = atom("seq");
    the_atoms.undefined = atom("undefined");
    the_atoms.declined = atom("declined");
    for (const MessageType t : {MessageType::normal, MessageType::chat, MessageType::groupchat,
                                MessageType::headline, MessageType::error})
        the_atoms.types[static_cast<int>(t)] = atom(to_string(t));
}

const Atoms& atoms() noexcept {
    return the_atoms;
}

}  // namespace unread::nif
