"""Loom's domain core: pure Python, no I/O, no frameworks.

Glossary (one English term per concept): Facility 授信额度 · Drawdown 提款 · Disbursement 放款 ·
Repayment 还款 · Principal 本金 · Interest 利息 · Penalty interest 罚息 · Compound interest 复利 ·
Accrual 计提 · Days past due 逾期天数 · Five-grade classification 五级分类 · Write-off 核销 ·
Journal entry 记账凭证 · Posting 分录 · Guarantor 担保人 · Collateral 抵押物 · Scorecard 评分卡 ·
Binning 分箱 · WoE 证据权重 · IV 信息值 · PD 违约概率 · Unified social credit code 统一社会信用代码.
"""
