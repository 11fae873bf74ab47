// Making server-supplied text safe to print on a terminal: a message body
// must not be able to move the cursor, recolour the screen, reorder text
// (bidi overrides) or fake extra output lines.
#pragma once

#include <string>
#include <string_view>

namespace chatadm {

// Escapes C0/C1 controls and DEL as \t \r \n or \xNN / \u0085, bidi
// embedding/override/isolate marks and U+2028/U+2029 as \uNNNN, and bytes
// that are not valid UTF-8 as \xNN. Newlines are escaped too: the result is
// always a single line.
std::string escape_line(std::string_view text);

// As escape_line but keeps '\n' (a "\r\n" pair counts as one newline), for
// bodies printed as several lines; trailing newlines are dropped.
std::string escape_multiline(std::string_view text);

// Whether text is well-formed UTF-8 (what XMPP and JSON require).
bool valid_utf8(std::string_view text);

// Code points in valid UTF-8 text: the column count for alignment (east
// Asian wide characters are rare in JIDs and ignored).
size_t display_width(std::string_view text);

}  // namespace chatadm
