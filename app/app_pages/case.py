"""Case page: pick the sample case or upload data, map its columns, and see what the data holds."""

from __future__ import annotations

import app_state as state
import streamlit as st

from prodready import charts, samples
from prodready.errors import ProdreadyError

NONE = "(none)"
UPLOAD_TYPES = ["csv", "parquet", "pq", "txt"]
SAMPLE_CHOICE, UPLOAD_CHOICE = "Sample case", "Upload your own data"
UPLOAD_ERROR = "upload_error"  # (upload key, message) of the last failed build

st.title("Case")
state.intro(
    "Choose the data every audit runs on (the sample case, or your own training data and "
    "serving log) and check what it holds before trusting any number built on it."
)


def sample_section() -> None:
    source = state.default_source()
    if source.startswith("sample:"):  # no PRODREADY_CASE: any bundled sample can be picked
        names = samples.available()
        loaded = st.session_state.get(state.CASE_KEY, source)
        current = loaded.partition(":")[2] if loaded.startswith("sample:") else names[0]
        name = st.selectbox(
            "Sample case",
            names,
            index=names.index(current) if current in names else 0,
            format_func=samples.describe,
            key="sample_name",
            help="Cases that ship with prodready, each with known problems to find.",
        )
        source = state.sample_source(name)
    if error := state.default_case_error():
        state.show_error(error)
    if (
        st.session_state.get(state.CASE_ORIGIN) == "default"
        and st.session_state.get(state.CASE_KEY) == source
    ):
        case = st.session_state[state.CASE]
        st.success(
            f"Loaded {state.describe_source(source)}: **{case.name}**.",
            icon=":material/check_circle:",
        )
        if case.spec.description:
            st.caption(case.spec.description)
    elif st.button(f"Load {state.describe_source(source)}", type="primary", key="load_default"):
        st.session_state.pop(state.DEFAULT_ERROR, None)
        if state.load_default_case(source) is not None:
            st.rerun()
        state.show_error(state.default_case_error() or "The case could not be loaded.")


def upload_section() -> None:
    st.caption(
        "The training data is what the model learnt from (with its offline scores, if you have "
        "them); the serving log is what production saw and did: one row per prediction, with "
        "the served score and, once it arrived, the truth. CSV (UTF-8) or Parquet."
    )
    upload_help = f"CSV or Parquet, up to {state.upload_cap_mb()} MB per file"
    left, right = st.columns(2)
    training_file = left.file_uploader(
        "Training data", type=UPLOAD_TYPES, key="upload_training", help=upload_help
    )
    serving_file = right.file_uploader(
        "Serving log", type=UPLOAD_TYPES, key="upload_serving", help=upload_help
    )
    if training_file is None or serving_file is None:
        st.info("Upload both files to map their columns.", icon=":material/upload_file:")
        return
    try:
        with st.spinner("Reading the files…"):
            training = state.read_upload(training_file.getvalue(), training_file.name)
            serving = state.read_upload(serving_file.getvalue(), serving_file.name)
    except ProdreadyError as err:
        state.show_error(err)
        return
    key = state.upload_key(
        training_file.name, training_file.getvalue(), serving_file.name, serving_file.getvalue()
    )
    st.caption(
        f"{training_file.name}: {len(training):,} rows × {training.shape[1]} columns · "
        f"{serving_file.name}: {len(serving):,} rows × {serving.shape[1]} columns"
    )
    mapping_form(training, serving, key, names=(training_file.name, serving_file.name))


def mapping_form(training, serving, key: str, *, names: tuple[str, str]) -> None:
    roles = state.guess_roles(training, serving)
    columns = state.all_columns(training, serving)
    st.subheader("Map the columns")
    task = st.radio(
        "Task",
        ["binary", "regression"],
        index=["binary", "regression"].index(state.guess_task(training, roles["label"])),
        format_func=lambda t: {
            "binary": "Binary: the model scores the chance of an event (0/1 label)",
            "regression": "Regression: the model predicts a number",
        }[t],
        horizontal=True,
        key=f"task_{key}",
    )

    def pick(label: str, role: str, help: str, *, optional: bool = False, where=None):
        options = ([NONE] if optional else []) + (where or columns)
        guess = roles[role]
        default = 0 if optional else None  # a required role left unguessed must be chosen
        index = options.index(guess) if guess in options else default
        return st.selectbox(
            label,
            options,
            index=index,
            help=help,
            key=f"{role}_{key}",
            placeholder="Choose a column",
        )

    with st.form(f"mapping_{key}", border=True):
        name = st.text_input("Case name", value="Uploaded case", help="Shown on every page.")
        st.markdown("**Which column plays which role**")
        first = st.columns(3)
        with first[0]:
            timestamp = pick("Timestamp", "timestamp", "When the prediction was made.")
        with first[1]:
            label = pick(
                "Label (the truth)",
                "label",
                "The outcome; empty in the serving log until it has arrived.",
            )
        with first[2]:
            prediction = pick(
                "Served score",
                "prediction",
                "The score (or value) the model returned in production.",
                where=[str(c) for c in serving.columns],
            )
        second = st.columns(3)
        with second[0]:
            id_column = pick(
                "Id (optional)",
                "id",
                "A key present in both files: lets the "
                "skew audit compare the same events row by row.",
                optional=True,
            )
        with second[1]:
            label_time = pick(
                "Label time (optional)",
                "label_time",
                "When the truth became known: measures the label delay.",
                optional=True,
            )
        with second[2]:
            challenger = pick(
                "Challenger score (optional)",
                "challenger",
                "A candidate model's score on the same events, for the rollout audit.",
                optional=True,
                where=[str(c) for c in serving.columns],
            )

        st.markdown(
            "**Features**: tick the model's inputs; say which ones production only knows later"
        )
        features = st.data_editor(
            state.feature_defaults(training, serving, roles),
            key=f"features_{key}",
            hide_index=True,
            num_rows="fixed",
            width="stretch",
            disabled=["feature"],
            column_config={
                "feature": st.column_config.TextColumn("column"),
                "use": st.column_config.CheckboxColumn("feature?", help="A model input."),
                "type": st.column_config.SelectboxColumn(
                    "type", options=["numeric", "categorical"], required=True
                ),
                "available_at_prediction": st.column_config.CheckboxColumn(
                    "known at prediction time?",
                    help="Untick when the value only exists after the prediction (leakage).",
                ),
                "availability_lag": st.column_config.TextColumn(
                    "known online after", help="Optional delay such as 1d, 6h or 30min."
                ),
            },
        )
        st.caption("Columns chosen for a role above are never used as features.")

        st.markdown("**What a decision is worth** (for the money figures; defaults are a start)")
        money = st.columns(5 if task == "binary" else 2)
        currency = money[0].text_input("Currency", value="USD", max_chars=8)
        if task == "binary":
            threshold = money[1].number_input(
                "Threshold",
                0.0,
                1.0,
                0.5,
                0.01,
                help="The model acts (flags, blocks, reviews) at this score or above.",
            )
            values = {
                "true_positive": money[2].number_input(
                    "Event caught", value=100.0, step=10.0, help="Money gained per true positive."
                ),
                "false_positive": money[3].number_input(
                    "False alarm",
                    value=-10.0,
                    step=1.0,
                    help="Money per false positive (a cost, so negative).",
                ),
                "false_negative": money[4].number_input(
                    "Event missed",
                    value=-100.0,
                    step=10.0,
                    help="Money per false negative (a cost, so negative).",
                ),
                "true_negative": 0.0,
            }
            business = {"currency": currency, "value": values, "threshold": threshold}
        else:
            cost = money[1].number_input(
                "Cost per unit of error",
                min_value=0.0,
                value=1.0,
                step=0.1,
                help="Money lost per unit of absolute error.",
            )
            business = {"currency": currency, "cost_per_unit_error": cost}
        submitted = st.form_submit_button("Build the case", type="primary", icon=":material/build:")

    if submitted:
        chosen = {"timestamp": timestamp, "label": label, "prediction": prediction}
        empty = [role for role, column in chosen.items() if column is None]
        if empty:
            st.session_state[UPLOAD_ERROR] = (
                key,
                f"Choose the {', '.join(empty)} column(s) before building the case.",
            )
        else:
            optional = {"id": id_column, "label_time": label_time, "challenger": challenger}
            role_columns = chosen | {k: (None if v == NONE else v) for k, v in optional.items()}
            mapping = {
                "task": task,
                "name": name.strip() or "Uploaded case",
                **role_columns,
                "features": state.features_from_table(features, role_columns),
                "business": business,
            }
            with st.spinner("Checking both files against the mapping…"):
                case, error = state.build_case(training, serving, mapping, names=names)
            if case is None:
                st.session_state[UPLOAD_ERROR] = (key, error)
            else:
                st.session_state.pop(UPLOAD_ERROR, None)
                state.set_case(
                    case,
                    key=f"upload:{key}:{state.upload_key(state.mapping_key(mapping))}",
                    origin="upload",
                )
    failed = st.session_state.get(UPLOAD_ERROR)
    if failed and failed[0] == key:
        state.show_error(failed[1])
    elif st.session_state.get(state.CASE_KEY, "").startswith(f"upload:{key}:"):
        st.success(
            f"Case built from your files: **{st.session_state[state.CASE].name}**. "
            "Its overview is below.",
            icon=":material/check_circle:",
        )


def data_overview(case, *, uploading: bool) -> None:
    ov = state.case_overview(case)
    n = ov.numbers
    st.header(f"What the data holds: {case.name}", divider="gray")
    if uploading and st.session_state.get(state.CASE_ORIGIN) != "upload":
        st.caption("This is the case loaded now; build yours above to replace it.")
    rate = "Positive rate" if case.task == "binary" else "Mean label"
    fmt_rate = state.fmt_share if case.task == "binary" else state.fmt_metric
    tiles = [
        ("Training rows", state.fmt_int(n["training_rows"]), "Rows the model learnt from."),
        (
            "Serving rows",
            state.fmt_int(n["serving_rows"]),
            "Predictions production made in the log.",
        ),
        (
            "Labelled serving rows",
            state.fmt_int(n["labelled_serving_rows"]),
            "Serving rows whose truth has arrived; only these can measure production accuracy.",
        ),
        (
            "Training period",
            state.fmt_span(n["training_start"], n["training_end"]),
            state.fmt_dates(n["training_start"], n["training_end"]),
        ),
        (
            "Serving period",
            state.fmt_span(n["serving_start"], n["serving_end"]),
            state.fmt_dates(n["serving_start"], n["serving_end"]),
        ),
        ("Features", state.fmt_int(n["features"]), "Model inputs declared in the case."),
        (
            "Known too late",
            state.fmt_int(n["features_not_available_at_prediction"]),
            "Features production only learns after it has predicted (leakage).",
        ),
        (
            "Median label delay",
            state.fmt_days(n["label_delay_median_days"]),
            "How long after a prediction the truth arrives (needs a label time column); 90% "
            f"arrive within {state.fmt_days(n['label_delay_p90_days'])}.",
        ),
        (
            f"{rate}, training",
            fmt_rate(n["base_rate_training"]),
            "Share of positive labels in the training data."
            if case.task == "binary"
            else "Average label in the training data.",
        ),
        (
            f"{rate}, serving",
            fmt_rate(n["base_rate_serving"]),
            "The same on serving rows whose truth has arrived.",
        ),
    ]
    for row in (tiles[:5], tiles[5:]):
        for column, (label, value, help_text) in zip(st.columns(5), row, strict=True):
            column.metric(label, value, border=True, help=help_text)
    st.caption(
        f"Training: {state.fmt_dates(n['training_start'], n['training_end'])} · serving: "
        f"{state.fmt_dates(n['serving_start'], n['serving_end'])} · "
        f"{state.fmt_share(n['labelled_share'], 0)} of serving rows labelled so far."
    )

    state.figure(
        charts.volume_over_time(ov), file_name=f"{state.slug(case.name)}_volume", key="volume"
    )
    with st.expander("Data behind the figure (rows and base rate per week)"):
        state.table(
            ov.over_time,
            file_name=f"{state.slug(case.name)}_over_time",
            key="over_time",
            index=False,
        )

    st.subheader("Features")
    st.caption(
        "Type, whether production knows the value when it predicts, and how often it is "
        "missing in each data set."
    )
    state.table(
        ov.to_frame(),
        file_name=f"{state.slug(case.name)}_features",
        key="features",
        column_config={
            "type": st.column_config.TextColumn("type"),
            "available_at_prediction": st.column_config.CheckboxColumn("known at prediction"),
            "availability_lag": st.column_config.TextColumn("known online after"),
            "in_serving": st.column_config.CheckboxColumn("in serving log"),
            "missing_training": st.column_config.NumberColumn(
                "missing (training)", format="percent"
            ),
            "missing_serving": st.column_config.NumberColumn("missing (serving)", format="percent"),
        },
    )
    state.figure(
        charts.feature_missingness(ov), file_name=f"{state.slug(case.name)}_missing", key="missing"
    )


origin = st.session_state.get(state.CASE_ORIGIN)
choice = (
    st.segmented_control(
        "Data",
        [SAMPLE_CHOICE, UPLOAD_CHOICE],
        default=UPLOAD_CHOICE if origin == "upload" else SAMPLE_CHOICE,
        key="case_source",
        help="Samples are cases that ship with prodready (card fraud, delivery times, electricity "
        "prices); upload your own training data and serving log to audit your model.",
    )
    or SAMPLE_CHOICE
)
if choice == SAMPLE_CHOICE:
    sample_section()
else:
    upload_section()

current = st.session_state.get(state.CASE)
if current is not None:
    data_overview(current, uploading=choice == UPLOAD_CHOICE)
