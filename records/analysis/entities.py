"""Discovered entities: the businesses, brands and institutions an answer names (metrics §4).

Tracked brands are only the names the user typed in; answers recommend many more. This module
finds named entities from the answer's own structure, deterministically and with offsets:
list-item leads, table cells (the row's lead and the cells of name columns), enumerations after
如/比如/例如/包括/推荐, bold names and quoted names, plus every tracked-brand match. Each entity is
``{name, surface, start, end, role, rank, tracked, via, count}``:

- ``role`` is ``recommended`` (offered as a place or product to go for: a list item, a table row,
  an inline example, a bold or quoted name in a recommending sentence), ``source`` (an
  information source such as 大众点评, 小红书, 知乎) or ``other`` (named in passing, or to avoid);
- ``rank`` is the position of the list item or table row whose lead the entity is;
- ``tracked`` is the tracked brand's name when the entity is one, else null.

Generic categories (公立医院推拿科, 盲人按摩店, 中医馆), places (朝阳区), item labels (特点, 价格)
and phrases (注重标准化服务) are not entities. Names are keyed with the alias suffix rules of
:mod:`records.analysis.brands` (华夏良子(朝阳店), 固生堂中医馆 → 华夏良子, 固生堂).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from records.analysis.brands import strip_suffixes
from records.analysis.citations import NAMED_SOURCES
from records.analysis.normalize import fold, normalize
from records.analysis.ranking import ListItem, ParsedList, parse_lists

ROLES = ("recommended", "source", "other")
_ROLE_PRIORITY = {"recommended": 0, "source": 1, "other": 2}

# Information sources beyond the cited-source names: search engines, maps and review apps.
_EXTRA_SOURCES = (
    "百度",
    "百度地图",
    "高德",
    "高德地图",
    "美团点评",
    "大众点评网",
    "点评",
    "谷歌",
    "google",
    "google maps",
    "快手",
    "视频号",
    "头条",
    "微信",
    "公众号",
    "贴吧",
)
SOURCE_NAMES = frozenset({*NAMED_SOURCES, *_EXTRA_SOURCES})
# Words in a list item that make a source name heading it an information channel, not a place.
_INFO_CUE = re.compile(
    r"搜索|搜一下|评分|评价|点评|笔记|帖子|经验|攻略|口碑|测评|看看|查看|查询|参考|分享|"
    r"真实体验|review|rating|search"
)

# Lead labels: a list item "首选：华夏良子" names its entity after the colon.
_LEAD_LABELS = frozenset(
    "首选 推荐 次选 备选 优选 品牌 名称 机构 店名 推荐机构 推荐门店 推荐品牌 代表 代表品牌 "
    "代表机构 top pick best overall best budget best value runner-up our pick".split(" ")
)
# Item labels (sub-bullet leads, table headers, section titles) that are never entities.
_LABELS = frozenset(
    """
    特点 特色 优势 亮点 优点 长处 不足 缺点 劣势 短板 适合 适合人群 适用人群 适合谁 价格 参考价格
    价位 人均 费用 收费 地址 位置 门店 分布 电话 营业时间 推荐理由 理由 评价 口碑 服务 项目 推荐项目
    环境 技师 医生 注意 注意事项 提示 温馨提示 建议 选择建议 总结 小结 结论 说明 备注 其他 预约
    预约方式 交通 推荐指数 评分 资质 擅长 主治 科室 服务项目 核心优势 主要特点 综合评价 用户评价
    避坑 避雷 避坑指南 避坑提示 如何选择 怎么选 选择技巧 选购建议 参考 来源 信息来源 数据来源 品牌
    名称 机构 连锁 城市 区域 类型 类别 排名 序号 代表机构 推荐机构 推荐门店 代表品牌 推荐品牌 门店数
    入门 进阶 高端 中端 低端 旗舰 学生党 上班族 新手 老手 性价比 推荐 首选 备选
    pros cons price prices pricing best for why summary verdict overview features key features
    bottom line budget considerations tips tip note notes cost location address rating ratings
    highlights drawbacks downsides upsides who it's for best overall final thoughts conclusion
    """.split()
)
# A name built only from these is a generic category (公立医院推拿科, 盲人按摩店, 中医馆).
_GENERIC_PARTS = (
    "社区卫生服务",
    "中西医结合",
    "中小型",
    "中高端",
    "老字号",
    "老中医",
    "老师傅",
    "公立",
    "私立",
    "民营",
    "社区",
    "三甲",
    "二甲",
    "三级",
    "甲等",
    "正规",
    "大型",
    "小型",
    "连锁",
    "盲人",
    "街边",
    "路边",
    "本地",
    "附近",
    "高端",
    "平价",
    "知名",
    "老牌",
    "品牌",
    "专业",
    "传统",
    "综合",
    "普通",
    "小区",
    "医保",
    "定点",
    "中医",
    "西医",
    "国医",
    "推拿",
    "按摩",
    "足疗",
    "足浴",
    "足道",
    "针灸",
    "康复",
    "理疗",
    "养生",
    "保健",
    "正骨",
    "艾灸",
    "拔罐",
    "美容",
    "健身",
    "口腔",
    "眼科",
    "牙科",
    "儿童",
    "小儿",
    "卫生",
    "服务",
    "大学",
    "附属",
    "高校",
    "个体",
    "私人",
    "家庭",
    "上门",
    "线上",
    "线下",
    "独立",
    "特色",
    "单体",
    "医疗",
    "医院",
    "诊所",
    "门诊部",
    "门诊",
    "机构",
    "中心",
    "工作室",
    "会所",
    "平台",
    "门店",
    "科室",
    "医生",
    "师傅",
    "技师",
    "养生馆",
    "中医馆",
    "国医馆",
    "推拿馆",
    "按摩店",
    "店铺",
    "小店",
    "老店",
    "名店",
    "医馆",
    "诊室",
    "科",
    "店",
    "馆",
    "院",
    "堂",
    "所",
    "类",
    "型",
    "式",
    "app",
    "小程序",
    "网站",
    "电商",
    "官方",
    "旗舰店",
    "手机",
    "品牌方",
    "国产",
    "进口",
    "国际",
    "国内",
    "外资",
    "合资",
    "新兴",
    "新锐",
    "大牌",
    "小众",
    "其他",
    "其它",
    "各类",
    "各种",
    "部分",
    "一些",
    "多家",
    "国货",
    "公司",
    "装修",
    "火锅",
    "餐厅",
    "饭店",
    "酒店",
    "学校",
    "培训",
    "课程",
    "产品",
    "专科",
    "驾校",
    "中小",
    "经济",
    "中档",
    "高档",
    "豪华",
    "健身房",
    "酒店",
)
_GENERIC = re.compile("(?:" + "|".join(sorted(_GENERIC_PARTS, key=len, reverse=True)) + ")+")
_CITIES = (
    "北京 上海 广州 深圳 杭州 成都 重庆 天津 南京 武汉 西安 苏州 长沙 郑州 青岛 沈阳 "
    "大连 宁波 厦门 济南 合肥 福州 昆明 哈尔滨 长春 石家庄 南昌 南宁 贵阳 太原 兰州 海口 "
    "三亚 无锡 佛山 东莞 珠海 全国 国内 海外 本地 华北 华东 华南 华中 西南 西北 东北 江浙沪 "
    "珠三角 长三角"
).split()
_PLACE = re.compile(
    "^(?:(?:"
    + "|".join(_CITIES)
    + r")(?:市|地区|地区的)?|[\u4e00-\u9fff]{1,4}(?:区|县|省|市|镇|街道|路|商圈|新区))"
    r"(?:[\u4e00-\u9fff]{1,4}(?:区|县|市|商圈|街道|路))?$"
)
# Words that make a lead a phrase or advice, not a name.
_PHRASE = re.compile(
    r"的|了|吗|呢|是|如果|可以|建议|注意|适合|选择|优先|根据|需要|预算|考虑|推荐|避免|提前|一定|比较|"
    r"总结|以下|这些|哪些|怎么|如何|方面|方式|渠道|时间|价格|费用|地址|不要|注重|想要|看重|关注|"
    r"尽量|最好|首先|其次|然后|另外|此外|或者|还是|能够|通过|进行|为主|为辅|左右|以上|以内|分钟|"
    r"元|小时|次|适用|偏好|人群|预约|查看|搜索|[几两多三四]类|[几两多]家|[几两多]个|"
    r"(?:病|症|炎|痛|突出|劳损|失眠|问题|需求|方面|项目|要点|分享|经验|笔记|视频|评价|文章|攻略)$|"
    r"\s\+\s|类|最|搜|上午|下午|晚上|周末|工作日|节假日|夜间|白天|凌晨|"
    r"[\"“”「」]|^(?:有|想|要|找|去|选|看|做|买|用|只是|若|当|对于|针对)"
)
_EN_PHRASE = re.compile(
    r"(?<![a-z])(?:if|for|you|your|when|what|which|how|why|best|top|consider|choose|look|"
    r"the|and|with|under|over|budget)(?![a-z])"
)
_HAN = re.compile(r"[\u4e00-\u9fff]")
_EDGE = " \t*_#>\"'“”‘’「」『』【】[]《》<>·•-–—:;,.、。!?|~"
_MARKER_PREFIX = re.compile(
    r"(?:#+\s*)?(?:\*\*|__)?(?:第?[一二三四五六七八九十\d]{1,3}(?:名|家|个|款|位|种|类)?"
    r"(?:[.、):]\s*|\s+)|\(\s*[一二三四五六七八九十\d]{1,3}\s*\)\s*|[\u2460-\u2473]\s*|"
    r"(?:top|no\.?)\s*\d{1,2}[.:、]?\s*)"
)
_DEPARTMENT = re.compile(r"(?<=医院)[\u4e00-\u9fff]{1,6}(?:科|科室|中心)$")
_PAREN_TAIL = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】)\s*$")
_HEAD_STOP = re.compile(r"\*\*|__|[:;,。!?(|]|\s[-–—]\s|[–—]")
# Enumeration triggers; the bare 如/像 need at least two names ("如A、B").
_ENUM = re.compile(
    r"(?P<strong>比如说?|例如|譬如|诸如|包括但不限于|包括|代表(?:品牌|机构)?有|像是)"
    r"|(?P<advice>推荐(?:你|您)?(?:去|选择|选)?|可以(?:去|试试|考虑|选择|看看|选)|不妨(?:试试|去)?|首选|"
    r"(?:优先)?考虑)"
    r"|(?P<weak>(?<![不例比譬诸假])如(?![果何下今需有此同实意期若])|(?<![好就不])像(?!素))"
)
_ENUM_STOP = re.compile(r"[。;\n!?(:,)]|等|之类|这类|这样|这些|都|也|均|是|在|进行|提供")
_ENUM_SPLIT = re.compile(r"、|/|以及|或者")
_ENUM_JOIN = re.compile(r"和|及|与|或")
_CLAUSE = {",", ";", "。", "!", "?"}
_RANKED_LEAD = re.compile(r"(?:top|no\.?)\s*(\d{1,2})(?![\d.])|第(\d{1,2})名")
_BOLD = re.compile(r"\*\*([^*\n]{2,40}?)\*\*|__([^_\n]{2,40}?)__")
_QUOTE = re.compile(r"[“\"「『]([^“”\"「」『』\n]{2,20})[”\"」』]")
_SEARCH_BEFORE = re.compile(r"(?:搜索|搜|关键词|关键字|输入|查找|search(?: for)?)\s*$")
_RECOMMEND_CUE = re.compile(
    r"推荐|首选|可以去|可以选|可选|可以试|试试|考虑|不妨|值得|选择|选|建议|可以(?:先)?用|"
    r"(?<![a-z])(?:recommend|try|consider|pick|go with|check out)"
)
_AVOID_CUE = re.compile(r"不推荐|不太推荐|不建议|避雷|避坑|慎选|踩雷|踩坑|谨慎|别去|不要去|avoid")
_SENTENCE_END = re.compile(r"[。!?;\n]")
# An enumeration of things rather than places ("问清楚设备型号，例如…", "病症（如…）").
_THINGS = re.compile(
    r"型号|设备|机型|材料|成分|品种|项目|证书|竞赛|药物|药品|疾病|病症|症状|部位|课程|技术|"
    r"手术|方式|方法|材质|功能|配置|芯片|面料"
)
# ...unless the things are brands ("种植体品牌（如士卓曼、诺贝尔）").
_BRANDS_BEFORE = re.compile(r"(?:品牌|牌子|brands?)\W{0,2}$")
# A list introduced as criteria or steps ("考察时重点看三点：") names no entities.
_CRITERIA = re.compile(
    r"[几两三四五六七八九十]点|要点|注意|考察|关注|标准|因素|技巧|步骤|方法|原则|怎么选|如何选|"
    r"选择建议|建议|tips|checklist|what to look for"
)
_NAME_COLUMN = re.compile(
    r"名称|品牌|机构|店名|门店|医院|推荐|代表|商家|诊所|平台|name|brand|clinic|shop|store|pick"
)
# Columns of prices, traits or product models, even when headed "代表机型".
_NOT_NAME_COLUMN = re.compile(
    r"价格|地址|特点|优势|理由|适合|数量|门店数|机型|型号|产品|款|系列|车型|price|model|product"
)


@dataclass(slots=True)
class _Candidate:
    start: int
    end: int
    via: str
    role: str
    rank: int | None = None
    tracked: str | None = None
    item: ListItem | None = None


def entity_key(name: str) -> str:
    """The key two spellings of one entity share: normalised, store/legal suffixes removed.

    A hospital's department is the hospital (四川省人民医院眼科 → 四川省人民医院).
    """
    cleaned = " ".join(normalize(name).split())
    cleaned = _PAREN_TAIL.sub("", cleaned).strip() or cleaned
    cleaned = _DEPARTMENT.sub("", cleaned)
    forms = strip_suffixes(cleaned) | {cleaned}
    return min(forms, key=lambda form: (len(form), form))


def _trim(f: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) to the name: no markers, markup, edge punctuation or trailing (…)."""
    while True:
        before = (start, end)
        while start < end and f[start] in _EDGE:
            start += 1
        while end > start and f[end - 1] in _EDGE:
            end -= 1
        marker = _MARKER_PREFIX.match(f, start, end)
        if marker and marker.end() < end:
            start = marker.end()
        paren = _PAREN_TAIL.search(f, start, end)
        if paren and paren.start() > start and _HAN.search(f, start, paren.start()):
            end = paren.start()
        elif paren and paren.start() > start + 1:
            end = paren.start()
        if (start, end) == before:
            return start, end


def generic_pattern(categories: Iterable[str] = ()) -> re.Pattern[str]:
    """Generic-name pattern over the built-in parts plus the run's category words (驾校, 火锅).

    Category words come from the questions (:func:`brands.context_words_from_questions`); those
    naming a place are left out, since a place plus a category (北京中医医院) is a name.
    """
    words = {w for w in categories if _HAN.search(w) and not any(c in w for c in _CITIES)}
    parts = sorted({*_GENERIC_PARTS, *words}, key=len, reverse=True)
    return re.compile("(?:" + "|".join(map(re.escape, parts)) + ")+")


@lru_cache(maxsize=64)
def _generic_for(categories: tuple[str, ...]) -> re.Pattern[str]:
    return generic_pattern(categories) if categories else _GENERIC


def is_entity_name(surface: str, generic: re.Pattern[str] = _GENERIC) -> bool:
    """Whether a trimmed lead or cell reads as a proper name rather than a label or a phrase."""
    name = " ".join(normalize(surface).split())
    if not name or name in _LABELS or name in _LEAD_LABELS:
        return False
    han = len(_HAN.findall(name))
    if han:
        if not 2 <= han <= 24 or len(name) > 32:
            return False
        if " " in name and han == len(name.replace(" ", "")):
            return False
        if generic.fullmatch(name) or _PLACE.match(name) or _PHRASE.search(name):
            return False
        return not re.search(r"[,。!?]", name)
    letters = re.findall(r"[a-z]", name)
    if len(letters) < 2 or len(name) > 40 or len(name.split()) > 5:
        return False
    return not _EN_PHRASE.search(name) and not re.search(r"[,!?]", name)


def _split_names(f: str, start: int, end: int) -> list[tuple[int, int]]:
    """Spans of the names in a cell or lead that lists several ("固生堂/正安中医", "A、B")."""
    spans = []
    pos = start
    for m in _ENUM_SPLIT.finditer(f, start, end):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, end))
    return [span for span in (_trim(f, s, e) for s, e in spans) if span[1] > span[0]]


def _sentence(norm: str, pos: int) -> tuple[int, int]:
    start = pos
    while start > 0 and not _SENTENCE_END.match(norm[start - 1]):
        start -= 1
    m = _SENTENCE_END.search(norm, pos)
    return start, m.start() if m else len(norm)


def _prose_role(norm: str, start: int, end: int) -> str:
    """A name in running text is recommended when its sentence recommends, else in passing."""
    sentence = norm[slice(*_sentence(norm, start))]
    if _AVOID_CUE.search(sentence):
        return "other"
    return "recommended" if _RECOMMEND_CUE.search(sentence) else "other"


class _Finder:
    """Collects candidates from one answer; ``entities`` resolves them per name."""

    def __init__(
        self, text: str, lists: Sequence[ParsedList], generic: re.Pattern[str] = _GENERIC
    ) -> None:
        self.generic = generic
        self.text = text
        self.f = fold(text)
        self.norm = normalize(text)
        self.lists = lists
        self.candidates: list[_Candidate] = []
        self.taken: list[tuple[int, int]] = []
        self.headings = [item for lst in lists for item in lst.items if item.kind == "heading"]

    def add(
        self,
        start: int,
        end: int,
        via: str,
        role: str,
        rank: int | None = None,
        item: ListItem | None = None,
    ) -> None:
        if end <= start or not self.is_name(self.text[start:end]):
            return
        if any(s < end and start < e for s, e in self.taken):
            return
        self.taken.append((start, end))
        self.candidates.append(_Candidate(start, end, via, role, rank, item=item))

    def is_name(self, surface: str) -> bool:
        return is_entity_name(surface, self.generic)

    def avoided(self, lst: ParsedList, item_start: int) -> bool:
        """Items of a list introduced (or sectioned) as places to avoid are not recommendations."""
        first = lst.items[0].start
        intro_start = self.norm.rfind("\n", 0, max(first - 1, 0)) + 1
        if _AVOID_CUE.search(self.norm, intro_start, first):
            return True
        titles = [
            item
            for item in self.headings
            if item.start <= item_start < item.end and item.head_start != item_start
        ]
        return any(_AVOID_CUE.search(self.norm, t.head_start, t.head_end) for t in titles)

    def criteria(self, lst: ParsedList) -> bool:
        """Whether a list is introduced as criteria or advice rather than as places to go."""
        first = lst.items[0]
        if first.kind == "heading":
            return False
        intro_end = self.norm.rfind("\n", 0, first.start)
        intro_start = self.norm.rfind("\n", 0, max(intro_end, 0)) + 1
        intro = self.norm[intro_start : max(intro_end, intro_start)]
        titles = [
            self.norm[t.head_start : t.head_end]
            for t in self.headings
            if t.start <= first.start < t.end and t.head_start != first.head_start
        ]
        return any(_CRITERIA.search(line) for line in (intro, *titles[-1:]))

    def heads(self) -> None:
        for lst in self.lists:
            if self.criteria(lst):
                continue
            for item in lst.items:
                # "- 教练耐心，通过率高" is a sentence; a name leads "X：…", "**X**" or a line.
                if item.kind == "line" and self.f[item.head_end : item.head_end + 1] in _CLAUSE:
                    continue
                start, end = _trim(self.f, item.head_start, item.head_end)
                label = " ".join(normalize(self.text[start:end]).split())
                if label in _LEAD_LABELS and item.kind != "table":
                    colon = self.f.find(":", end, item.end)
                    if colon < 0 or colon - end > 2:
                        continue
                    stop = _HEAD_STOP.search(self.f, colon + 1, item.end)
                    line_end = self.f.find("\n", colon, item.end)
                    limit = min(
                        stop.start() if stop and stop.start() > colon + 1 else item.end,
                        line_end if line_end >= 0 else item.end,
                    )
                    start, end = _trim(self.f, colon + 1, limit)
                colon = self.f.rfind(":", start, end)
                if colon > start and self.is_name(self.text[colon + 1 : end]):
                    start, end = _trim(self.f, colon + 1, end)
                elif colon > start:
                    start, end = _trim(self.f, start, colon)
                role = "other" if self.avoided(lst, item.start) else "recommended"
                names = _split_names(self.f, start, end)
                via = "table" if item.kind == "table" else "list"
                for s, e in names:
                    self.add(s, e, via, role, item.position, item)

    def table_cells(self) -> None:
        """Cells of name columns ("推荐机构", "品牌", "name") in every table."""
        for lst in self.lists:
            if lst.family != "table":
                continue
            first = lst.items[0].start
            sep_start = self.f.rfind("\n", 0, first - 1) + 1
            head_start = self.f.rfind("\n", 0, max(sep_start - 1, 0)) + 1
            header = self._cells(head_start, max(sep_start - 1, head_start))
            columns = {
                index
                for index, (s, e) in enumerate(header)
                if _NAME_COLUMN.search(self.norm[s:e])
                and not _NOT_NAME_COLUMN.search(self.norm[s:e])
            }
            avoided = self.avoided(lst, first)
            for item in lst.items:
                for index, (s, e) in enumerate(self._cells(item.start, item.end)):
                    if index in columns:
                        role = "other" if avoided else "recommended"
                        for ns, ne in _split_names(self.f, *_trim(self.f, s, e)):
                            self.add(ns, ne, "table", role)

    def _cells(self, start: int, end: int) -> list[tuple[int, int]]:
        line = self.f[start:end]
        if "|" not in line:
            return []
        bars = [start + i for i, ch in enumerate(line) if ch == "|"]
        return [(a + 1, b) for a, b in zip(bars, bars[1:], strict=False)]

    def enumerations(self) -> None:
        for m in _ENUM.finditer(self.norm):
            begin = m.end()
            while begin < len(self.norm) and self.norm[begin] in " :":
                begin += 1
            stop = _ENUM_STOP.search(self.norm, begin)
            limit = stop.start() if stop else len(self.norm)
            pieces: list[tuple[int, int]] = []
            pos = begin
            for split in _ENUM_SPLIT.finditer(self.norm, begin, limit):
                pieces.append((pos, split.start()))
                pos = split.end()
            pieces.append((pos, limit))
            last_start, last_end = pieces[-1]
            join = _ENUM_JOIN.search(self.norm, last_start + 1, last_end)
            if join and join.end() < last_end:
                pieces[-1:] = [(last_start, join.start()), (join.end(), last_end)]
            sentence_start = _sentence(self.norm, m.start())[0]
            before = self.norm[sentence_start : m.start()]
            if _THINGS.search(before) and not _BRANDS_BEFORE.search(before):
                continue
            names = []
            for s, e in pieces:
                owner = self.norm.rfind("的", s, e)
                if owner >= 0 and m.group("strong"):
                    s = owner + 1
                s, e = _trim(self.f, s, e)
                if e > s and self.is_name(self.text[s:e]):
                    names.append((s, e))
            if m.group("weak") and len(names) < 2:
                continue
            # After advice verbs and the bare 如/像, every piece must be a name.
            if not m.group("strong") and len(names) < len([p for p in pieces if p[1] > p[0]]):
                continue
            role = (
                "other"
                if _AVOID_CUE.search(self.norm, *_sentence(self.norm, m.start()))
                else "recommended"
            )
            for s, e in names:
                self.add(s, e, "enumeration", role)

    def marked(self) -> None:
        """Bold and quoted names in running text; a bold line lead "**TOP1 X**" is ranked."""
        for m in _BOLD.finditer(self.f):
            group = 1 if m.group(1) is not None else 2
            s, e = _trim(self.f, m.start(group), m.end(group))
            line_start = self.f.rfind("\n", 0, m.start()) + 1
            ranked = _RANKED_LEAD.match(self.f, m.start(group))
            if ranked and not self.f[line_start : m.start()].strip():
                self.add(s, e, "bold", "recommended", int(ranked.group(1)))
                continue
            self.add(s, e, "bold", _prose_role(self.norm, s, e))
        for m in _QUOTE.finditer(self.f):
            if _SEARCH_BEFORE.search(self.norm, max(0, m.start() - 8), m.start()):
                continue
            s, e = _trim(self.f, m.start(1), m.end(1))
            # A quoted term named in passing is usually a concept ("成分党"), not a business.
            if "、" not in self.f[s:e] and _prose_role(self.norm, s, e) == "recommended":
                self.add(s, e, "quote", "recommended")


def _without_groupings(candidates: list[_Candidate], text: str) -> list[_Candidate]:
    """Drop leads that group other entities: a city or category ("连锁快修", "公共场馆").

    A list item whose sub-items are led by entities, or a heading whose section names entities,
    is a grouping, whatever its title says.
    """
    keys = [entity_key(text[c.start : c.end]) for c in candidates]
    kept = []
    for candidate, key in zip(candidates, keys, strict=True):
        item = candidate.item
        if item is not None:
            inside = [
                other
                for other, other_key in zip(candidates, keys, strict=True)
                if other_key != key
                and item.head_end <= other.start < item.end
                and (
                    item.kind == "heading"
                    or (other.item is not None and other.item.depth > item.depth)
                )
            ]
            if inside:
                continue
        kept.append(candidate)
    return kept


def _source_names() -> re.Pattern[str]:
    return re.compile(
        "|".join(
            (r"(?<![a-z0-9])" + re.escape(name) if name[0].isascii() else re.escape(name))
            + (r"(?![a-z0-9])" if name[-1].isascii() else "")
            for name in sorted(SOURCE_NAMES, key=len, reverse=True)
        )
    )


_SOURCES = _source_names()


def extract_entities(
    text: str,
    lists: Sequence[ParsedList],
    tracked: Sequence[tuple[str, int, int]] = (),
    exclude: Sequence[tuple[int, int]] = (),
    categories: Sequence[str] = (),
) -> list[dict]:
    """Entities of one answer, one per name, in text order.

    ``lists`` are the answer's parsed lists, ``tracked`` the accepted tracked-brand matches as
    (brand name, start, end), ``exclude`` spans that hold no entity (URLs), ``categories`` the
    run's category words (a generic name may be built from them: 大型驾校).
    """
    # One-item lists count here (a lone bullet under a category names a place), not for ranks.
    lists = parse_lists(text, min_items=1)
    finder = _Finder(text, lists, _generic_for(tuple(categories)))
    finder.taken.extend(exclude)
    finder.heads()
    finder.table_cells()
    finder.enumerations()
    finder.marked()
    norm = finder.norm
    candidates = _without_groupings(finder.candidates, text)
    # Information sources: a source name is a source unless it heads an item that offers it
    # as a place to go (a booking platform with no reviews or searching mentioned).
    items = [item for lst in lists for item in lst.items]
    source_spans = []
    for m in _SOURCES.finditer(norm):
        if any(s < m.end() and m.start() < e for s, e in exclude):
            continue
        source_spans.append(m.span())
    for candidate in candidates:
        key = entity_key(text[candidate.start : candidate.end])
        if key not in SOURCE_NAMES:
            continue
        owner = next(
            (i for i in items if i.head_start <= candidate.start < max(i.head_end, candidate.end)),
            None,
        )
        offered = owner is not None and not _INFO_CUE.search(norm, owner.head_end, owner.end)
        if not (candidate.via in {"list", "table"} and offered):
            candidate.role, candidate.rank = "source", None
    for start, end in source_spans:
        if not any(c.start < end and start < c.end for c in candidates):
            candidates.append(_Candidate(start, end, "source", "source"))
    # Tracked brands: flag the candidate that holds the match, or add the match itself.
    for brand, start, end in tracked:
        holder = next(
            (c for c in candidates if c.start <= start < c.end or start <= c.start < end), None
        )
        if holder is not None:
            holder.tracked = holder.tracked or brand
            continue
        candidates.append(
            _Candidate(start, end, "tracked", _prose_role(norm, start, end), None, brand)
        )

    groups: dict[str, list[_Candidate]] = defaultdict(list)
    for candidate in sorted(candidates, key=lambda c: c.start):
        name = candidate.tracked or entity_key(text[candidate.start : candidate.end])
        groups[name].append(candidate)
    entities = []
    for name, found in groups.items():
        role = min((c.role for c in found), key=_ROLE_PRIORITY.__getitem__)
        best = [c for c in found if c.role == role]
        ranked = [c for c in best if c.rank is not None]
        chosen = ranked[0] if ranked else best[0]
        tracked_brand = next((c.tracked for c in found if c.tracked), None)
        key = normalize(entity_key(text[chosen.start : chosen.end]))
        entities.append(
            {
                "name": name,
                "surface": text[chosen.start : chosen.end],
                "start": chosen.start,
                "end": chosen.end,
                "role": role,
                "rank": chosen.rank if role == "recommended" else None,
                "tracked": tracked_brand,
                "via": chosen.via,
                "count": max(len(found), norm.count(key) if key else 0),
            }
        )
    entities.sort(key=lambda e: e["start"])
    return entities


def aggregate_entities(
    answers: Iterable[tuple[str, Mapping | None]], *, limit: int | None = None
) -> list[dict]:
    """Entities ranked by how often they are recommended across answers.

    ``answers`` are (platform, analysis) pairs of valid answers. Per name: ``answers`` (how many
    recommend it), ``platforms`` (which), ``mean_rank`` over the answers that rank it (with
    ``ranked_n``), ``mentions`` (answers naming it in any role) and ``tracked``. Sorted by
    answers, then mean rank, then name.
    """
    stats: dict[str, dict] = {}
    for platform, analysis in answers:
        for entity in (analysis or {}).get("entities") or ():
            row = stats.setdefault(
                entity["name"],
                {
                    "name": entity["name"],
                    "answers": 0,
                    "mentions": 0,
                    "platforms": set(),
                    "ranks": [],
                    "tracked": entity.get("tracked"),
                },
            )
            row["mentions"] += 1
            if entity["role"] != "recommended":
                continue
            row["answers"] += 1
            row["platforms"].add(platform)
            if entity.get("rank") is not None:
                row["ranks"].append(entity["rank"])
    rows = []
    for row in stats.values():
        if not row["answers"]:
            continue
        ranks = row.pop("ranks")
        rows.append(
            row
            | {
                "platforms": sorted(row["platforms"]),
                "mean_rank": round(sum(ranks) / len(ranks), 2) if ranks else None,
                "ranked_n": len(ranks),
            }
        )
    rows.sort(
        key=lambda r: (
            -r["answers"],
            r["mean_rank"] if r["mean_rank"] is not None else 1e9,
            r["name"],
        )
    )
    return rows[:limit] if limit is not None else rows
