"""Factories for test data."""

import factory
from django.contrib.auth import get_user_model

from records.models import Answer, AnswerStatus, TestRecord


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-only")


class TestRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TestRecord

    brand_name = "华夏良子"
    competitor_brands = factory.LazyFunction(lambda: ["良子健身", "足疗大师"])
    questions = factory.LazyFunction(lambda: ["北京中医推拿哪家好？"])
    platforms = factory.LazyFunction(lambda: ["demo"])
    repeats = 1
    total_tasks = 1


class AnswerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Answer

    record = factory.SubFactory(TestRecordFactory)
    question_index = 0
    platform = "demo"
    run_index = 0
    question = "北京中医推拿哪家好？"
    text = "1. 华夏良子\n2. 良子健身"
    status = AnswerStatus.SUCCESS
