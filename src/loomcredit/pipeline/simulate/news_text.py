"""Chinese news about the cluster's enterprises, with the truth of what each item reports.

Risk news (environmental penalties, production halts, wage arrears, an owner out of reach,
lawsuits) comes mostly to distressed and defaulted firms; healthy firms get expansion, award and
trade-fair news, the odd penalty, and denials (「未发生停产」) that must not read as a risk event.
Items name the firm by its full name, an abbreviation (恒达印染) or a variant.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from loomcredit.pipeline.schemas import RECORD_SCHEMAS, TRUTH_SCHEMAS
from loomcredit.pipeline.simulate.config import BURN_IN, Timeline
from loomcredit.pipeline.simulate.firms import DYER_CODES, Firms
from loomcredit.pipeline.simulate.invoices import Chunk
from loomcredit.pipeline.simulate.monthly import ChunkView

SOURCES = (
    "柯桥日报",
    "绍兴网",
    "中国轻纺城网",
    "浙江在线",
    "微信公众号「柯桥发布」",
    "信用中国（浙江绍兴）",
)
OFFICIAL = "信用中国（浙江绍兴）"

# kind -> (title, body) templates; {n} the name, {a} an amount in 万元, {m} months, {k} people
TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "expansion": (
        (
            "{n}投资新建智能化生产线",
            "近日，{n}年产{k}00万米高档面料技改项目顺利投产，预计新增产值{a}万元。",
        ),
        ("{n}扩建新厂房", "{n}新厂房项目开工建设，建成后将新增喷水织机{k}0台，进一步扩大产能。"),
        ("{n}新项目签约", "{n}与柯桥经济开发区签约，计划投资{a}00万元建设数码印花生产线。"),
    ),
    "award": (
        ("{n}获评“专精特新”中小企业", "柯桥区公布新一批“专精特新”中小企业名单，{n}榜上有名。"),
        ("{n}荣获绿色工厂称号", "{n}通过节能减排改造，入选本年度省级绿色工厂名单。"),
        ("{n}入选亩均效益领跑者名单", "在全区工业企业亩均效益评价中，{n}被评为A类企业，受到表彰。"),
    ),
    "neutral": (
        (
            "{n}亮相柯桥纺博会",
            "在中国柯桥国际纺织品面辅料博览会上，{n}展出了新一季面料产品，吸引了众多采购商。",
        ),
        (
            "走访{n}：订单排到下个月",
            "记者走访{n}，车间里机器运转正常，负责人介绍目前订单已排到下个月。",
        ),
        ("{n}举办秋冬面料订货会", "{n}举办秋冬新品面料订货会，来自各地的客商前来洽谈合作。"),
    ),
    "environmental_penalty": (
        (
            "{n}因超标排放被处罚",
            "绍兴市生态环境局柯桥分局公布行政处罚决定，{n}废水排放超标，被责令改正并处罚款{a}万元。",
        ),
        (
            "{n}违规排污被立案查处",
            "执法人员检查发现{n}私设暗管排放印染废水，已依法立案查处，罚款{a}万元。",
        ),
        (
            "{n}被责令停产整治",
            "因印染废水超标排放，{n}被生态环境部门责令停产整治，并处罚款{a}万元。",
        ),
    ),
    "production_halt": (
        (
            "{n}已停产多日",
            "记者走访发现，{n}厂区大门紧闭，机器已停止运转，据附近工人反映该厂已停产近{m}个月。",
        ),
        ("{n}全面停工", "受资金链紧张影响，{n}已全面停工，部分设备已被搬离厂区。"),
        (
            "{n}工厂大门紧锁",
            "有市民反映，{n}近期工厂大门紧锁，车间内织机停工，员工已被告知放假回家。",
        ),
    ),
    "wage_arrears": (
        (
            "{n}拖欠工人工资",
            "多名员工反映，{n}已拖欠工资{m}个月，涉及工人{k}余名，劳动监察部门已介入。",
        ),
        (
            "{n}欠薪引发工人聚集",
            "{n}因拖欠{k}名工人工资引发聚集讨薪，当地人社部门已责令其限期支付。",
        ),
        ("{n}员工集体讨薪", "{n}数十名员工到劳动监察大队反映，公司已连续{m}个月未发放工资。"),
    ),
    "owner_unreachable": (
        (
            "{n}老板失联",
            "有供应商反映，{n}实际控制人近日失联，公司账户资金已被转移，多家债权人上门讨债。",
        ),
        ("{n}法人代表去向不明", "{n}法定代表人已多日无法联系，员工和供应商聚集在厂门口等待说法。"),
        (
            "{n}实控人跑路？",
            "网传{n}实际控制人已跑路，记者多次拨打其电话均无人接听，厂区人去楼空。",
        ),
    ),
    "lawsuit": (
        ("{n}因货款纠纷被起诉", "{n}因拖欠货款被供应商诉至柯桥区人民法院，涉案金额{a}万元。"),
        ("{n}涉多起合同纠纷", "裁判文书显示，{n}近期涉及多起买卖合同纠纷，累计涉案金额{a}万元。"),
        ("{n}成被告", "因拖欠面料货款{a}万元，{n}被多家供应商起诉至法院。"),
    ),
}
NEGATED: dict[str, tuple[tuple[str, str], ...]] = {
    "production_halt": (
        (
            "{n}回应停产传闻",
            "针对网传停产消息，{n}表示公司生产经营正常，未发生停产，订单已排至年底。",
        ),
        ("{n}：停产传闻不实", "近日网传{n}已停产，经记者核实，该消息不实，企业目前生产正常。"),
    ),
    "wage_arrears": (
        ("{n}：不存在拖欠工资情况", "经劳动监察部门核实，{n}未拖欠员工工资，相关传言不实。"),
        ("{n}否认拖欠工资", "{n}负责人否认拖欠工资一事，表示工资均已按时足额发放。"),
    ),
    "owner_unreachable": (
        (
            "{n}负责人回应“失联”传闻",
            "{n}负责人表示，自己并未失联，近期在外地考察市场，公司运转正常。",
        ),
        ("{n}辟谣老板跑路", "针对老板跑路的传言，{n}发布声明辟谣，称董事长正在国外参展。"),
    ),
}
KINDS = tuple(TEMPLATES)


def _probabilities(view: ChunkView, dyer: np.ndarray) -> dict[str, np.ndarray]:
    d, p = view.dist, view.post
    healthy = (d < 0) & (p < 0)
    early_post = (p >= 0) & (p < 6)
    env_base = np.where(dyer[:, None], 0.003, 0.0006)
    return {
        "expansion": np.where(healthy, 0.002, 0.0),
        "award": np.where(healthy, 0.0012, 0.0),
        "neutral": np.where(healthy, 0.003, 0.0005),
        "environmental_penalty": np.where(d >= 0, env_base + 0.008, env_base),
        "production_halt": np.where(d >= 2, 0.02, 0.0) + np.where(early_post, 0.05, 0.0),
        "wage_arrears": np.where(d >= 2, 0.02, 0.0) + np.where(early_post, 0.04, 0.0),
        "owner_unreachable": np.where(d >= 4, 0.006, 0.0) + np.where(p == 0, 0.25, 0.0),
        "lawsuit": np.where(d >= 0, 0.012, 0.0006) + np.where(early_post, 0.03, 0.0),
        "negated": np.where(healthy, 0.0015, 0.0),
    }


def build_news(
    chunk: Chunk, view: ChunkView, firms: Firms, timeline: Timeline, rng: np.random.Generator
) -> tuple[pa.Table, pa.Table]:
    """News items of a chunk and their labels (``truth/news_labels``)."""
    dyer = np.array([firms.industry_code(i) in DYER_CODES for i in range(chunk.lo, chunk.hi)])
    probs = _probabilities(view, dyer)
    alive = view.active | (view.post >= 0)
    items: list[tuple[int, int, str, bool]] = []
    for kind, p in probs.items():
        f, m = np.nonzero((rng.random(p.shape) < p) & alive)
        for fi, mi in zip(f.tolist(), m.tolist(), strict=True):
            if kind == "negated":
                neg_kind = list(NEGATED)[int(rng.integers(0, len(NEGATED)))]
                items.append((fi, mi, neg_kind, True))
            else:
                items.append((fi, mi, kind, False))
    items.sort(key=lambda x: (x[0], x[1]))
    months = np.array([it[1] for it in items], dtype=np.int64)
    days = timeline.random_days(months + BURN_IN, rng) if items else np.empty(0, np.int64)
    doc_ids, sources, titles, bodies, mentioned, usccs, kinds, negated, true_uscc = (
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
        [],
    )
    for j, (fi, _mi, kind, neg) in enumerate(items):
        g = chunk.lo + fi
        aliases = firms.aliases[g]
        r = rng.random()
        name = aliases[int(rng.integers(0, len(aliases)))] if aliases and r < 0.5 else firms.name[g]
        pool = NEGATED[kind] if neg else TEMPLATES[kind]
        title, body = pool[int(rng.integers(0, len(pool)))]
        fill = {
            "n": name,
            "a": int(rng.integers(2, 80)),
            "m": int(rng.integers(1, 5)),
            "k": int(rng.integers(2, 9)) * 10,
        }
        official = kind in ("environmental_penalty", "lawsuit") and not neg and rng.random() < 0.4
        source = OFFICIAL if official else SOURCES[int(rng.integers(0, len(SOURCES) - 1))]
        doc_ids.append(f"N{chunk.index:05d}{j:07d}")
        sources.append(source)
        titles.append(title.format(**fill))
        bodies.append(body.format(**fill))
        mentioned.append(name)
        usccs.append(firms.uscc[g] if official else None)
        true_uscc.append(firms.uscc[g])
        kinds.append("none" if kind == "neutral" else kind)
        negated.append(neg)
    news = pa.Table.from_arrays(
        [
            pa.array(doc_ids, pa.string()),
            pa.array(days.astype(np.int32), pa.date32()),
            pa.array(sources, pa.string()),
            pa.array(titles, pa.string()),
            pa.array(bodies, pa.string()),
            pa.array(mentioned, pa.string()),
            pa.array(usccs, pa.string()),
        ],
        schema=RECORD_SCHEMAS["news"],
    )
    labels = pa.Table.from_arrays(
        [
            pa.array(doc_ids, pa.string()),
            pa.array(true_uscc, pa.string()),
            pa.array(kinds, pa.string()),
            pa.array(negated, pa.bool_()),
        ],
        schema=TRUTH_SCHEMAS["news_labels"],
    )
    return news, labels
