// Display names of the languages the language panel offers (the server accepts every Whisper
// code; unknown ones are shown as their code).

const NAMES = {
  en: 'English',
  it: 'Italian',
  fi: 'Finnish',
  cs: 'Czech',
  de: 'German',
  es: 'Spanish',
  fr: 'French',
  nl: 'Dutch',
  pl: 'Polish',
  pt: 'Portuguese',
  sv: 'Swedish',
};

export function languageName(code) {
  return NAMES[code] ?? code;
}
