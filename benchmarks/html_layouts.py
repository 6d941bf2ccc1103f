"""Which trafilatura mode reads news pages best: article kept, boilerplate dropped.

Usage: python -m benchmarks.html_layouts
Pages are built from common news layouts in Arabic, English and Indonesian: navigation, a
headline, a lead in one of several containers (a lead div, an excerpt, a summary, a
standfirst, an intro in bold, an abstract section), body paragraphs, one boilerplate block
(a trust-principles footer, a "get ... by email" box, a comment policy, a "read also" line, a
copyright line), related links and a footer. Each page is read by index.formats.html's
extraction with trafilatura's default, favor_precision and favor_recall. Recall is the share
of the article's paragraphs (lead and body) found; precision the share of extracted lines
that belong to the article (headline included). Prints a table and writes
benchmarks/results/html_layouts.json.
"""

from __future__ import annotations

import argparse
import html
import json
import statistics
from pathlib import Path
from unittest import mock

import trafilatura

from index.formats import html as reader

TEXTS = {
    "en": {
        "title": "Misrata port reopens after strike",
        "lead": "Libya's busiest commercial port is working again after its workers ended a "
        "week-long strike.",
        "body": [
            "The port of Misrata reopened on Monday after a week-long strike by dockworkers "
            "over unpaid wages, the port authority said.",
            "Twelve cargo ships had been waiting outside the harbour, and the first of them "
            "began unloading grain early on Monday morning.",
            "The strike ended after the transport ministry agreed to pay three months of "
            "arrears and to review contracts next month.",
        ],
        "boilerplate": {
            "trust": "Our Standards: The Thomson Reuters Trust Principles.",
            "email": "Get the latest business news delivered by email. Sign up for our daily "
            "briefing.",
            "comments": "Comments are moderated and should be relevant to the article. "
            "Offensive comments will be removed.",
            "read-also": "Read also: Oil output rises in the east",
            "copyright": "© 2024 Example News. All rights reserved.",
        },
    },
    "ar": {
        "title": "إعادة فتح ميناء مصراتة بعد الإضراب",
        "lead": "عاد ميناء مصراتة، أكثر الموانئ التجارية ازدحاما في ليبيا، إلى العمل بعد أن "
        "أنهى العمال إضرابهم.",
        "body": [
            "أعيد فتح ميناء مصراتة يوم الاثنين بعد إضراب استمر أسبوعا نفذه عمال الرصيف "
            "احتجاجا على أجور غير مدفوعة، بحسب سلطة الميناء.",
            "وكانت اثنتا عشرة سفينة شحن تنتظر خارج الميناء، وبدأت أولاها تفريغ القمح في وقت "
            "مبكر من صباح الاثنين.",
            "وانتهى الإضراب بعد أن وافقت وزارة المواصلات على دفع متأخرات ثلاثة أشهر ومراجعة "
            "العقود الشهر المقبل.",
        ],
        "boilerplate": {
            "trust": "معاييرنا: مبادئ الثقة في طومسون رويترز.",
            "email": "اشترك في نشرتنا البريدية لتصلك آخر الأخبار على بريدك الإلكتروني.",
            "comments": "التعليقات تخضع للمراجعة، ويجب أن تكون ذات صلة بالموضوع. تحذف "
            "التعليقات المسيئة.",
            "read-also": "اقرأ أيضا: ارتفاع إنتاج النفط في الشرق",
            "copyright": "© 2024 جميع الحقوق محفوظة لموقع الأخبار.",
        },
    },
    "id": {
        "title": "Pelabuhan Misrata dibuka kembali setelah mogok",
        "lead": "Pelabuhan komersial tersibuk di Libya kembali beroperasi setelah para pekerja "
        "mengakhiri mogok selama sepekan.",
        "body": [
            "Pelabuhan Misrata dibuka kembali pada hari Senin setelah mogok sepekan oleh para "
            "buruh pelabuhan karena upah yang belum dibayar, kata otoritas pelabuhan.",
            "Dua belas kapal kargo telah menunggu di luar pelabuhan, dan kapal pertama mulai "
            "membongkar gandum pada Senin pagi.",
            "Mogok berakhir setelah kementerian perhubungan setuju membayar tunggakan tiga "
            "bulan dan meninjau kontrak bulan depan.",
        ],
        "boilerplate": {
            "trust": "Standar kami: Prinsip Kepercayaan Thomson Reuters.",
            "email": "Dapatkan berita terbaru lewat email. Daftar untuk buletin harian kami.",
            "comments": "Komentar dimoderasi dan harus relevan dengan artikel. Komentar yang "
            "menyinggung akan dihapus.",
            "read-also": "Baca juga: Produksi minyak naik di timur",
            "copyright": "© 2024 Contoh Berita. Hak cipta dilindungi undang-undang.",
        },
    },
}
LEADS = {
    "lead div": '<div class="article-lead"><p>{}</p></div>',
    "excerpt": '<p class="excerpt">{}</p>',
    "summary": '<div class="summary">{}</div>',
    "standfirst": '<h2 class="standfirst">{}</h2>',
    "intro bold": '<div class="intro"><strong>{}</strong></div>',
    "abstract": '<section class="abstract">{}</section>',
}
MODES = {
    "default": {},
    "favor_precision": {"favor_precision": True},
    "favor_recall": {"favor_recall": True},
}


def page(lang: str, lead: str, boilerplate: str) -> str:
    """One news page in a common layout."""
    t = TEXTS[lang]
    e = html.escape
    body = "".join(f"<p>{e(p)}</p>" for p in t["body"])
    direction = "rtl" if lang == "ar" else "ltr"
    return (
        f"<!doctype html><html lang={lang} dir={direction}><head><meta charset=utf-8>"
        f"<title>{e(t['title'])} | Example</title></head><body>"
        '<header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>'
        f"<main><article><h1>{e(t['title'])}</h1>{LEADS[lead].format(e(t['lead']))}{body}"
        f"<p>{e(t['boilerplate'][boilerplate])}</p></article>"
        '<aside><h3>Related</h3><ul><li><a href="/a">Flights resume</a></li></ul></aside>'
        "</main><footer><p>Contact · Privacy</p></footer></body></html>"
    )


def score(lang: str, text: str) -> tuple[float, float]:
    """Recall of the article's paragraphs and precision of the extracted lines."""
    t = TEXTS[lang]
    wanted = [t["lead"], *t["body"]]
    lines = [line for line in text.splitlines() if line.strip()]
    found = sum(any(w in line for line in lines) for w in wanted)
    article = [*wanted, t["title"]]
    kept = sum(any(a in line or line in a for a in article) for line in lines)
    return found / len(wanted), (kept / len(lines) if lines else 0.0)


def read(markup: str, options: dict) -> str:
    """index.formats.html's extraction with trafilatura's options for this mode."""
    extract = trafilatura.bare_extraction
    with mock.patch.object(
        reader.trafilatura, "bare_extraction", lambda *a, **k: extract(*a, **{**k, **options})
    ):
        return reader.extract_html(markup).text


def run() -> dict:
    """Every page in every mode; mean recall and precision per mode and language."""
    rows = []
    for mode, options in MODES.items():
        for lang, texts in TEXTS.items():
            for lead in LEADS:
                for junk in texts["boilerplate"]:
                    recall, precision = score(lang, read(page(lang, lead, junk), options))
                    rows.append(
                        {
                            "mode": mode,
                            "lang": lang,
                            "lead": lead,
                            "boilerplate": junk,
                            "recall": recall,
                            "precision": precision,
                        }
                    )
    summary = {
        mode: {
            lang: {
                measure: statistics.mean(
                    r[measure] for r in rows if r["mode"] == mode and r["lang"] == lang
                )
                for measure in ("recall", "precision")
            }
            for lang in TEXTS
        }
        for mode in MODES
    }
    return {"summary": summary, "pages": rows}


def table(result: dict) -> str:
    """Markdown: modes as rows, recall / precision per language."""
    langs = list(TEXTS)
    lines = [
        "| trafilatura mode | "
        + " | ".join(f"{lang} recall / precision %" for lang in langs)
        + " |",
        "| --- |" + " --- |" * len(langs),
    ]
    for mode, by_lang in result["summary"].items():
        cells = [
            f"{100 * by_lang[lang]['recall']:.1f} / {100 * by_lang[lang]['precision']:.1f}"
            for lang in langs
        ]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Run, print the table, write benchmarks/results/html_layouts.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    result = run()
    print(table(result))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "html_layouts.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
