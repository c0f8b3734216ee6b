"""Word lists and compiled patterns of entity discovery (see :mod:`records.analysis.entities`).

Information sources, lead and item labels, the parts of generic category names, cities and
places, phrase and enumeration cues, and the column headers of name columns. Data only.
"""

from __future__ import annotations

import re

from records.analysis.citations import NAMED_SOURCES

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
    r"总结|以下|如下|下面|下列|下述|这些|哪些|怎么|如何|方面|方式|渠道|时间|价格|费用|地址|不要|注重|想要|看重|关注|"
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
