"""Synthetic Chinese names, home areas and other vocabularies for the generator.

Names are drawn from common surnames and given-name characters; none belongs to a real child.
``TYPO`` maps characters to a look-alike or homophone a hurried typist might enter instead.
"""

from __future__ import annotations

import numpy as np

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
# surname frequencies fall off roughly geometrically
_SURNAME_P = np.exp(-np.arange(len(SURNAMES)) / 25.0)
_SURNAME_P /= _SURNAME_P.sum()

GIVEN_CHARS = list(
    "子浩宇轩梓涵一诺欣怡梓萱思雨雨桐可馨佳怡晨曦俊杰博文浩然宇航泽宇皓轩明哲嘉怡语嫣若曦"
    "诗涵梦琪雅琪紫涵欣妍子墨沐阳奕辰睿泽铭锦程志远天佑家豪文博晓彤晓雪婉清书瑶静怡思彤"
    "昊天宏伟建华立新国栋凯瑞鹏飞海洋丽娜美玲秀英桂芳玉兰春燕丹丹婷婷倩雯舒涵佳琪晨阳"
)
GIVEN_CHARS = sorted(set(GIVEN_CHARS))

TYPO = {
    "浩": "皓",
    "皓": "浩",
    "宇": "雨",
    "雨": "宇",
    "轩": "萱",
    "萱": "轩",
    "涵": "含",
    "怡": "仪",
    "欣": "心",
    "杰": "洁",
    "文": "雯",
    "雯": "文",
    "然": "燃",
    "航": "杭",
    "泽": "择",
    "哲": "喆",
    "嘉": "佳",
    "佳": "嘉",
    "琪": "淇",
    "晨": "辰",
    "辰": "晨",
    "曦": "希",
    "墨": "默",
    "阳": "洋",
    "洋": "阳",
    "睿": "瑞",
    "瑞": "睿",
    "铭": "明",
    "明": "铭",
    "程": "成",
    "远": "源",
    "豪": "浩",
    "博": "波",
    "彤": "桐",
    "桐": "彤",
    "雪": "雷",
    "清": "青",
    "瑶": "遥",
    "静": "婧",
    "思": "斯",
    "昊": "皓",
    "伟": "玮",
    "华": "桦",
    "新": "欣",
    "栋": "东",
    "凯": "恺",
    "鹏": "朋",
    "飞": "菲",
    "丽": "莉",
    "娜": "那",
    "玲": "琳",
    "英": "莹",
    "芳": "方",
    "兰": "岚",
    "燕": "艳",
    "丹": "单",
    "婷": "亭",
    "倩": "茜",
    "舒": "书",
    "书": "舒",
    "一": "依",
    "诺": "娜",
    "子": "梓",
    "梓": "子",
    "可": "珂",
    "馨": "鑫",
    "俊": "骏",
    "天": "添",
    "佑": "右",
    "家": "佳",
    "晓": "小",
    "婉": "宛",
    "语": "雨",
    "嫣": "燕",
    "若": "诺",
    "诗": "思",
    "梦": "孟",
    "雅": "亚",
    "紫": "子",
    "妍": "研",
    "沐": "木",
    "奕": "亦",
    "锦": "金",
    "志": "智",
    "立": "力",
    "国": "果",
    "宏": "洪",
    "建": "健",
    "海": "亥",
    "美": "媚",
    "秀": "绣",
    "桂": "贵",
    "玉": "钰",
    "春": "椿",
    "晴": "情",
}

HOME_AREAS = [
    "东城片区",
    "西城片区",
    "南苑片区",
    "北湖片区",
    "新城片区",
    "老街片区",
    "开发区",
    "城郊村",
]

AREA_CODES = ["440106", "440104", "110105", "310115", "510107", "420106", "330106", "320102"]


def draw_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` Chinese names (surname + one or two given characters)."""
    sur = rng.choice(len(SURNAMES), size=n, p=_SURNAME_P)
    two = rng.random(n) < 0.75
    g1 = rng.integers(0, len(GIVEN_CHARS), size=n)
    g2 = rng.integers(0, len(GIVEN_CHARS), size=n)
    sur_a = np.asarray(SURNAMES, dtype=object)
    giv = np.asarray(GIVEN_CHARS, dtype=object)
    out = sur_a[sur] + giv[g1]
    out[two] = out[two] + giv[g2[two]]
    return out


def typo(name: str, rng: np.random.Generator) -> str:
    """A plausible mistyping of ``name``: one given-name character swapped for a look-alike."""
    positions = [i for i in range(1, len(name)) if name[i] in TYPO]
    if not positions:
        return name[0] + "晓" + name[2:] if len(name) > 2 else name + "儿"
    i = positions[int(rng.integers(len(positions)))]
    return name[:i] + TYPO[name[i]] + name[i + 1 :]
