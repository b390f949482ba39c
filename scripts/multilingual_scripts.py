"""Non-English test meetings for ``scripts/synth_meeting.py``: voices, scripts, translations.

Festival's Debian voices: Italian ``voice_lp_diphone`` (female, festvox-italp16k) and
``voice_pc_diphone`` (male, festvox-itapc16k); Finnish ``voice_suo_fi_lj_diphone`` (female,
festvox-suopuhe-lj) and ``voice_hy_fi_mv_diphone`` (male, festvox-suopuhe-mv). They read
ISO-8859-1 text, so accented letters are written in that encoding.

Each ``=>`` line is the hand-written English translation of the turn above it (the reference
for the translated captions); English turns need none. ``->`` lines are action items, as in
the English scripts (only English turns have them: the finder's patterns are English).
"""

from __future__ import annotations

FOREIGN_VOICES: dict[str, str] = {
    "giulia": "voice_lp_diphone",
    "marco": "voice_pc_diphone",
    "aino": "voice_suo_fi_lj_diphone",
    "mikko": "voice_hy_fi_mv_diphone",
}
SPEAKER_LANGUAGES: dict[str, str] = {
    "alice": "en",
    "bob": "en",
    "carol": "en",
    "giulia": "it",
    "marco": "it",
    "aino": "fi",
    "mikko": "fi",
}

MULTILINGUAL_SCRIPTS: dict[str, str] = {
    "italian2": """
giulia: Buongiorno Marco. Oggi parliamo del nuovo sito per i clienti.
  => Good morning Marco. Today we are talking about the new website for the customers.
marco: Buongiorno. Ieri ho finito la pagina dei prezzi e ho corretto due errori.
  => Good morning. Yesterday I finished the pricing page and fixed two errors.
giulia: Molto bene. Quando possiamo mostrare il sito al cliente?
  => Very good. When can we show the website to the customer?
marco: Penso venerdì, dopo i test finali.
  => I think on Friday, after the final tests.
giulia: Perfetto. Io preparo la presentazione per la riunione di lunedì.
  => Perfect. I will prepare the presentation for the meeting on Monday.
marco: Grazie, a domani.
  => Thank you, see you tomorrow.
""",
    "finnish2": """
aino: Hyvää huomenta. Tänään puhumme uudesta sovelluksesta.
  => Good morning. Today we are talking about the new application.
mikko: Huomenta. Testit ovat valmiita ja kaikki toimii hyvin.
  => Morning. The tests are ready and everything works well.
aino: Hienoa. Milloin voimme julkaista uuden version?
  => Great. When can we release the new version?
mikko: Ensi viikolla, jos asiakas hyväksyy suunnitelman.
  => Next week, if the customer approves the plan.
aino: Kiitos. Kirjoitan raportin huomenna.
  => Thank you. I will write the report tomorrow.
""",
    "bilingual2": """
alice: Good morning Giulia. Shall we review the launch plan together?
giulia: Sì, certo. Il piano è pronto, ma mancano ancora le traduzioni.
  => Yes, of course. The plan is ready, but the translations are still missing.
alice: No problem. I can ask the translation team to finish them by Friday.
  -> alice | ask the translation team to finish them | Friday
giulia: Grazie mille. Io controllo le immagini e i testi oggi pomeriggio.
  => Thank you very much. I will check the images and the texts this afternoon.
alice: Great, then we meet again on Monday.
giulia: Perfetto, a lunedì.
  => Perfect, see you on Monday.
""",
}
