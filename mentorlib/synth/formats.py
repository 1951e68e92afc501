"""How values are spelled in raw school files: grade/class labels, dates, IDs, booleans.

Used by the generator's export (to write the many spellings real files contain) and kept beside
the normalisers that read them back, so the two stay in step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..io.codebook import option_labels
from .params import MOOD_CODES

CN_DIGITS = "零一二三四五六七八九十"
FW = str.maketrans("0123456789()-.:", "０１２３４５６７８９（）－．：")
MIDDLE_CHU = {7: "初一", 8: "初二", 9: "初三"}
EXCEL_EPOCH = pd.Timestamp(1899, 12, 30)


def cn_num(n: int) -> str:
    """Chinese numeral for 0-9999 (三, 十二, 二十, 一百零五).

    >>> [cn_num(x) for x in (3, 12, 20, 105, 1010)]
    ['三', '十二', '二十', '一百零五', '一千零一十']
    """
    if n < 0 or n > 9999:
        raise ValueError(n)
    if n <= 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + CN_DIGITS[n - 10]
    out, zero = "", False
    for val, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        q, n = divmod(n, val)
        if q:
            out += ("零" if zero and out else "") + CN_DIGITS[q] + unit
            zero = False
        elif out:
            zero = True
    return out


def grade_label(g: int, style: str = "cn") -> str:
    """三年级 / 3年级 / 初一 for a grade."""
    if style == "chu" and g in MIDDLE_CHU:
        return MIDDLE_CHU[g]
    if style == "num":
        return f"{g}年级"
    return f"{cn_num(g)}年级"


CLASS_STYLES = ("std", "num", "paren", "fwparen", "dash", "short", "fullwidth", "chu")


def class_label(g: int, c: int, style: str = "std") -> str:
    """Spell grade ``g`` class ``c`` the way a file might.

    >>> [class_label(3, 2, s) for s in ("std", "num", "paren", "dash", "short")]
    ['三年级2班', '3年级2班', '三年级(2)班', '3-2', '三(2)班']
    >>> class_label(7, 3, "chu")
    '初一(3)班'
    """
    if style == "std":
        return f"{grade_label(g)}{c}班"
    if style == "num":
        return f"{g}年级{c}班"
    if style == "paren":
        return f"{grade_label(g)}({c})班"
    if style == "fwparen":
        return f"{grade_label(g)}（{c}）班"
    if style == "dash":
        return f"{g}-{c}"
    if style == "short":
        return f"{cn_num(g)}({c})班"
    if style == "fullwidth":
        return f"{g}年级{c}班".translate(FW)
    if style == "chu":
        return f"{grade_label(g, 'chu')}({c})班" if g in MIDDLE_CHU else f"{grade_label(g)}({c})班"
    if style == "cnclass":
        return f"{grade_label(g)}{cn_num(c)}班"
    raise ValueError(style)


def class_labels(g: np.ndarray, c: np.ndarray, style: str) -> np.ndarray:
    """Vectorised :func:`class_label` (via the distinct grade/class pairs)."""
    codes = np.asarray(g, dtype=np.int64) * 10000 + np.asarray(c, dtype=np.int64)
    uniq, inv = np.unique(codes, return_inverse=True)
    labels = np.array(
        [class_label(int(u // 10000), int(u % 10000), style) for u in uniq], dtype=object
    )
    return labels[inv]


DATE_STYLES = ("iso", "slash", "cn", "dot", "serial")


def date_label(d: pd.Timestamp, style: str = "iso"):
    """A date as a file might hold it; ``serial`` gives the Excel serial number (int)."""
    d = pd.Timestamp(d)
    if style == "iso":
        return d.strftime("%Y-%m-%d")
    if style == "slash":
        return f"{d.year}/{d.month}/{d.day}"
    if style == "cn":
        return f"{d.year}年{d.month}月{d.day}日"
    if style == "dot":
        return f"{d.year}.{d.month:02d}.{d.day:02d}"
    if style == "serial":
        return int((d.normalize() - EXCEL_EPOCH).days)
    raise ValueError(style)


def date_labels(dates, style: str) -> np.ndarray:
    """Vectorised :func:`date_label` (each distinct date is spelled once)."""
    codes, uniq = pd.factorize(pd.DatetimeIndex(pd.to_datetime(np.asarray(dates))))
    spelled = np.array([date_label(d, style) for d in uniq], dtype=object)
    out = spelled[np.maximum(codes, 0)]
    out[codes < 0] = None
    return out


def fullwidth(s: str) -> str:
    """Turn ASCII digits and brackets into their full-width forms."""
    return s.translate(FW)


def sci_mangle_number(digits18: str) -> float:
    """What Excel keeps of an 18-digit number: 15 significant digits."""
    return float(round(int(digits18), -3))


def sci_mangle_text(digits18: str) -> str:
    """How Excel shows it in a General cell, and a CSV saved from Excel holds it."""
    return f"{float(digits18):.5E}".replace("E+", "E+")


# ----------------------------------------------------------------------------- words of the raw files

SYSTEM_COLS = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP"]
TENCENT_COLS = ["编号", "开始答题时间", "结束答题时间", "答题时长"]
SUBJECT_ZH = {
    "chinese": "语文",
    "math": "数学",
    "english": "英语",
    "physics": "物理",
    "chemistry": "化学",
}
STAFF_SUBJECT_ZH = option_labels("staff", "subject")
STRENGTH_ZH = {
    "moral": "思想教育",
    "academic": "学业辅导",
    "psychological": "心理辅导",
    "habits": "习惯培养",
    "life": "生活指导",
    "reading": "阅读",
    "sports": "体育运动",
    "art": "美术",
    "music": "音乐",
    "science": "科学探究",
    "craft": "手工制作",
    "calligraphy": "书法",
    "dance": "舞蹈",
}
FAMILY_ZH = {"two_parent": "双亲", "single_parent": "单亲", "reconstituted": "重组"}
MODE_ZH = {
    "face": "面谈",
    "letter": "书信",
    "journal": "周记",
    "email": "电子邮件",
    "phone": "电话",
    "visit": "上门",
    "group": "集体",
    "online": "线上",
}
REASON_ZH = {
    "personality": "性格不合",
    "needs_mismatch": "需求不匹配",
    "too_little_contact": "交流太少",
    "friends": "想和好朋友同一个导师",
    "rebalance": "班级调整",
}
MOOD_ZH = dict(zip(MOOD_CODES, ["红", "黄", "蓝", "灰"], strict=True))
MOOD_ALIAS = {"happy": "红色", "calm": "黄色", "sad": "蓝色", "angry": "灰色"}
NOTE_TEMPLATES = {
    "talk": ["了解近期学习情况", "谈心，情绪稳定", "聊了和同学相处的问题", "鼓励按时完成作业"],
    "three_party": ["与班主任、家长沟通学习习惯", "三方沟通近期表现"],
    "parent_call": ["电话联系家长", "与家长沟通在家表现"],
    "home_visit": ["上门家访，了解家庭情况"],
    "student_report": ["学生汇报本月情况"],
    "subject_exchange": ["与科任教师交流作业和测验情况"],
    "group_counselling": ["与心理老师开展团体辅导"],
    "case_conference": ["年级组个案分析会"],
}
GRADE_SHEET = {g: grade_label(g) for g in range(1, 10)}
