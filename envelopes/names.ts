// Names people see (file names, agency names). Bidirectional formatting characters are removed
// wherever a name enters or is shown: with U+202E (right-to-left override) "báo cáo" + U+202E + "fdp.exe"
// shows as "báo cáoexe.pdf", a program dressed as a PDF.

/** U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069: every bidi formatting character. */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export const stripBidiControls = (name: string): string => name.replace(BIDI_CONTROLS, "");
